using System.Numerics.Tensors;
using NeuralDescent.Layers;

namespace NeuralDescent.Optimizers;

/// <summary>Plain (mini-batch stochastic) gradient descent: θ ← θ − η·∂C/∂θ, the tutorial's update rule.</summary>
/// <remarks>
/// With the batch-mean gradient this is Nielsen's <c>w ← w − (η/m) Σ ∇c</c> over a mini-batch of m samples.
/// <example>θ = 1, ∂C/∂θ = 0.5, η = 0.1: one step gives θ = 0.95.</example>
/// </remarks>
public sealed class Sgd : IOptimizer
{
    private float _learningRate;

    /// <summary>Creates plain SGD.</summary>
    /// <param name="learningRate">η &gt; 0. The tutorial's sigmoid network uses 3.0; ReLU networks with cross-entropy 0.01–0.5.</param>
    /// <exception cref="ArgumentOutOfRangeException">η is not positive and finite.</exception>
    public Sgd(float learningRate)
    {
        LearningRate = learningRate;
    }

    /// <inheritdoc />
    public string Name => $"SGD(η={LearningRate})";

    /// <inheritdoc />
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerGuard.CheckLearningRate(value);
    }

    /// <inheritdoc />
    public void Step(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        float minusEta = -_learningRate;
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            // θ ← (−η)·g + θ in one fused pass.
            TensorPrimitives.MultiplyAdd(p.Gradient, minusEta, p.Values, p.Values);
        }
    }
}
