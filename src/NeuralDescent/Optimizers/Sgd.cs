using System.Numerics.Tensors;

namespace NeuralDescent.Optimizers;

/// <summary>Plain (mini-batch stochastic) gradient descent: θ ← θ − η·∂C/∂θ, the tutorial's update rule.</summary>
/// <remarks>
/// With the batch-mean gradient this is Nielsen's <c>w ← w − (η/m) Σ ∇c</c> over a mini-batch of m samples.
/// <example>θ = 1, ∂C/∂θ = 0.5, η = 0.1: one step gives θ = 0.95.</example>
/// </remarks>
public sealed class Sgd : StatefulOptimizer
{
    /// <summary>Creates plain SGD.</summary>
    /// <param name="learningRate">η &gt; 0. The tutorial's sigmoid network uses 3.0; ReLU networks with cross-entropy 0.01–0.5.</param>
    /// <exception cref="ArgumentOutOfRangeException">η is not positive and finite.</exception>
    public Sgd(float learningRate) : base(learningRate)
    {
    }

    /// <inheritdoc />
    public override string Name => $"SGD(η={LearningRate})";

    /// <summary>Empty: plain SGD keeps no state.</summary>
    public override IReadOnlyList<string> StateNames { get; } = [];

    /// <inheritdoc />
    protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, float[][] state, int offset, long step)
        => TensorPrimitives.MultiplyAdd(gradient, -LearningRate, values, values); // θ ← (−η)·g + θ in one fused pass
}
