using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Optimizers;

/// <summary>SGD with momentum (Polyak's heavy ball, or Nesterov's), PyTorch's <c>SGD(momentum=μ, nesterov=…)</c> with no dampening.</summary>
/// <remarks>
/// <para>Update, per parameter, with velocity b (zero before the first step) and weight decay λ:
/// <c>g′ = g + λθ;  b ← μ·b + g′;  d = b (classical) or g′ + μ·b (Nesterov);  θ ← θ − η·d</c>.</para>
/// <para>The velocity carries the walk through flat regions and small bumps of the cost: the tutorial's remedy for local minima.</para>
/// <example>θ = 1, g = 0.5 on both steps, η = 0.1, μ = 0.9: b₁ = 0.5, θ₁ = 0.95; b₂ = 0.95, θ₂ = 0.855.</example>
/// </remarks>
public sealed class Momentum : StatefulOptimizer
{
    /// <summary>Creates SGD with momentum.</summary>
    /// <param name="learningRate">η &gt; 0.</param>
    /// <param name="momentum">μ in [0, 1); default 0.9.</param>
    /// <param name="nesterov">Use Nesterov's look-ahead form; default false.</param>
    /// <param name="weightDecay">λ ≥ 0, an L2 penalty ½λ‖θ‖² added to the cost (coupled: it goes through the velocity); default 0.</param>
    public Momentum(float learningRate, float momentum = 0.9f, bool nesterov = false, float weightDecay = 0f) : base(learningRate)
    {
        MomentumFactor = CheckRange(momentum, 0f, 1f, nameof(momentum));
        Nesterov = nesterov;
        WeightDecay = CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay), maxInclusive: true);
    }

    /// <summary>μ.</summary>
    public float MomentumFactor { get; }

    /// <summary>Whether the Nesterov form is used.</summary>
    public bool Nesterov { get; }

    /// <summary>λ.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override string Name => $"{(Nesterov ? "Nesterov" : "Momentum")}(η={LearningRate}, μ={MomentumFactor})";

    /// <inheritdoc />
    public override IReadOnlyList<string> StateNames { get; } = ["momentum_buffer"];

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
        => OptimizerKernels.Momentum(values, gradient, state[0], LearningRate, MomentumFactor, WeightDecay, Nesterov);
}
