using NeuralDescent.Layers;

namespace NeuralDescent.Optimizers;

/// <summary>
/// An update rule that moves parameters against their gradients, θ ← update(θ, ∂C/∂θ, state).
/// </summary>
/// <remarks>
/// <see cref="Step"/> is called once per mini-batch, after the backward pass has filled every
/// <see cref="Parameter.Gradient"/> with the gradient of the batch-mean cost. Optimizers that need per-parameter
/// state (momentum buffers, Adam's moments) create it lazily on the first step, keyed by the <see cref="Parameter"/>
/// object, so this interface serves them unchanged.
/// </remarks>
public interface IOptimizer
{
    /// <summary>A short name for messages and tables, e.g. <c>SGD(η=0.1)</c>.</summary>
    string Name { get; }

    /// <summary>η, the learning rate of the next step; learning-rate schedules change it between steps.</summary>
    float LearningRate { get; set; }

    /// <summary>Updates every parameter in place from its gradient.</summary>
    /// <param name="parameters">The parameters to update, in a stable order.</param>
    void Step(IReadOnlyList<Parameter> parameters);
}
