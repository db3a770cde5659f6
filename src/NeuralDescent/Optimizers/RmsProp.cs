using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Optimizers;

/// <summary>RMSProp (Hinton, 2012): divides each step by a running root-mean-square of recent gradients.</summary>
/// <remarks>
/// <para>Update, with the average v (zero at start) and weight decay λ: <c>g′ = g + λθ;  v ← α·v + (1 − α)·g′²;  θ ← θ − η·g′/(√v + ε)</c>.
/// Defaults follow PyTorch: η = 0.01, α = 0.99, ε = 1e-8 (no momentum, not centred).</para>
/// <example>θ = 1, g = 0.5, η = 0.01, α = 0.99: v₁ = 0.0025, θ₁ = 1 − 0.01·0.5/0.05 = 0.9.</example>
/// </remarks>
public sealed class RmsProp : StatefulOptimizer
{
    /// <summary>Creates RMSProp.</summary>
    /// <param name="learningRate">η &gt; 0; default 0.01.</param>
    /// <param name="alpha">α, the smoothing constant in [0, 1); default 0.99.</param>
    /// <param name="epsilon">ε &gt; 0; default 1e-8.</param>
    /// <param name="weightDecay">λ ≥ 0 (L2, coupled); default 0.</param>
    public RmsProp(float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float weightDecay = 0f) : base(learningRate)
    {
        Alpha = CheckRange(alpha, 0f, 1f, nameof(alpha));
        Epsilon = CheckRange(epsilon, float.Epsilon, 1f, nameof(epsilon), maxInclusive: true);
        WeightDecay = CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay), maxInclusive: true);
    }

    /// <summary>α.</summary>
    public float Alpha { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override string Name => $"RMSProp(η={LearningRate}, α={Alpha})";

    /// <inheritdoc />
    public override IReadOnlyList<string> StateNames { get; } = ["square_avg"];

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
        => OptimizerKernels.RmsProp(values, gradient, state[0], LearningRate, Alpha, WeightDecay, Epsilon);
}
