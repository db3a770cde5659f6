using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Optimizers;

/// <summary>AdaGrad (Duchi, Hazan and Singer, 2011): per-weight learning rates that shrink with the accumulated squared gradient.</summary>
/// <remarks>
/// <para>Update, with the sum s (zero at start) and weight decay λ: <c>g′ = g + λθ;  s ← s + g′²;  θ ← θ − η·g′/(√s + ε)</c>.
/// Defaults follow PyTorch: η = 0.01, ε = 1e-10 (no learning-rate decay, initial accumulator 0).</para>
/// <example>θ = 1, g = 0.5 then 0.5, η = 0.1: s₁ = 0.25, θ₁ = 0.9; s₂ = 0.5, θ₂ = 0.9 − 0.05/√0.5 ≈ 0.829289.</example>
/// </remarks>
public sealed class AdaGrad : StatefulOptimizer
{
    /// <summary>Creates AdaGrad.</summary>
    /// <param name="learningRate">η &gt; 0; default 0.01.</param>
    /// <param name="epsilon">ε &gt; 0 in the denominator; default 1e-10.</param>
    /// <param name="weightDecay">λ ≥ 0 (L2, coupled); default 0.</param>
    public AdaGrad(float learningRate = 0.01f, float epsilon = 1e-10f, float weightDecay = 0f) : base(learningRate)
    {
        Epsilon = CheckRange(epsilon, float.Epsilon, 1f, nameof(epsilon), maxInclusive: true);
        WeightDecay = CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay), maxInclusive: true);
    }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override string Name => $"AdaGrad(η={LearningRate})";

    /// <inheritdoc />
    public override IReadOnlyList<string> StateNames { get; } = ["sum"];

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
        => OptimizerKernels.AdaGrad(values, gradient, state[0], LearningRate, WeightDecay, Epsilon);
}
