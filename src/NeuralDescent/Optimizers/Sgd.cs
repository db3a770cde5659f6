using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Optimizers;

/// <summary>Plain (mini-batch stochastic) gradient descent: θ ← θ − η·(∂C/∂θ + λθ), the tutorial's update rule (λ = 0 by default).</summary>
/// <remarks>
/// With the batch-mean gradient this is Nielsen's <c>w ← w − (η/m) Σ ∇c</c> over a mini-batch of m samples.
/// <example>θ = 1, ∂C/∂θ = 0.5, η = 0.1: one step gives θ = 0.95.</example>
/// </remarks>
public sealed class Sgd : StatefulOptimizer
{
    /// <summary>Creates plain SGD.</summary>
    /// <param name="learningRate">η &gt; 0. The tutorial's sigmoid network uses 3.0; ReLU networks with cross-entropy 0.01–0.5.</param>
    /// <param name="weightDecay">λ ≥ 0: L2 regularization, the gradient of the penalty ½λ‖θ‖² added to each step (not to the reported loss); default 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">η is not positive and finite, or λ is negative.</exception>
    public Sgd(float learningRate, float weightDecay = 0f) : base(learningRate)
    {
        WeightDecay = CheckRange(weightDecay, 0f, float.MaxValue, nameof(weightDecay), maxInclusive: true);
    }

    /// <summary>λ, the L2 weight decay.</summary>
    public float WeightDecay { get; }

    /// <inheritdoc />
    public override string Name => $"SGD(η={LearningRate})";

    /// <summary>Empty: plain SGD keeps no state.</summary>
    public override IReadOnlyList<string> StateNames { get; } = [];

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
    {
        // θ ← (−η)·g + θ in one pass; with decay, θ·(1 − ηλ) first, which is the same update.
        OptimizerKernels.Sgd(values, gradient, LearningRate, WeightDecay);
    }
}
