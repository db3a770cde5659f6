using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Optimizers;

/// <summary>Adam (Kingma and Ba, 2015): steps scaled by bias-corrected running averages of the gradient and of its square.</summary>
/// <remarks>
/// <para>Update at step t, with moments m, v (zero at start) and L2 weight decay λ (coupled, PyTorch's <c>Adam(weight_decay=λ)</c>):
/// <c>g′ = g + λθ;  m ← β₁m + (1 − β₁)g′;  v ← β₂v + (1 − β₂)g′²;  m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ);  θ ← θ − η·m̂/(√v̂ + ε)</c>.</para>
/// <para>Defaults from the paper (and PyTorch, Keras): η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8. For decoupled weight decay use <see cref="AdamW"/>.</para>
/// <example>The first step moves every weight by almost exactly η against the sign of its gradient: m̂₁ = g, v̂₁ = g².</example>
/// </remarks>
public class Adam : StatefulOptimizer
{
    private readonly bool _decoupled;

    /// <summary>Creates Adam.</summary>
    /// <param name="learningRate">η &gt; 0; default 1e-3.</param>
    /// <param name="beta1">β₁ in [0, 1); default 0.9.</param>
    /// <param name="beta2">β₂ in [0, 1); default 0.999.</param>
    /// <param name="epsilon">ε &gt; 0; default 1e-8.</param>
    /// <param name="weightDecay">λ ≥ 0 (L2, coupled); default 0.</param>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : this(learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>Shared by <see cref="AdamW"/>, which decouples the weight decay from the gradient.</summary>
    private protected Adam(float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled) : base(learningRate)
    {
        _decoupled = decoupled;
        Beta1 = CheckRange(beta1, 0f, 1f, nameof(beta1));
        Beta2 = CheckRange(beta2, 0f, 1f, nameof(beta2));
        Epsilon = CheckRange(epsilon, float.Epsilon, 1f, nameof(epsilon), maxInclusive: true);
        WeightDecay = CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay), maxInclusive: true);
    }

    /// <summary>β₁.</summary>
    public float Beta1 { get; }

    /// <summary>β₂.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override string Name => _decoupled ? $"AdamW(η={LearningRate}, λ={WeightDecay})" : $"Adam(η={LearningRate})";

    /// <inheritdoc />
    public sealed override IReadOnlyList<string> StateNames { get; } = ["exp_avg", "exp_avg_sq"];

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected sealed override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
        => OptimizerKernels.Adam(values, gradient, state[0], state[1], LearningRate, Beta1, Beta2, Epsilon, WeightDecay, _decoupled, step);
}
