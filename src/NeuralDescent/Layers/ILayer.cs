using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>
/// One stage of a sequential network: a differentiable map from a batch of inputs to a batch of outputs.
/// </summary>
/// <remarks>
/// <para>Batches are row-major matrices: <c>input</c> is batchSize × <see cref="InputSize"/>,
/// <c>output</c> is batchSize × <see cref="OutputSize"/>, one sample per row.</para>
/// <para>A layer owns no activation buffers: the <see cref="Network"/> allocates them once per batch size and hands
/// the same spans to <see cref="Forward"/> and later to <see cref="Backward"/>, so the backward pass can use
/// the forward input and output (the chain rule needs them).</para>
/// <para>Element-wise layers (activations) report <see cref="InputSize"/> = <see cref="OutputSize"/> = 0,
/// meaning they accept any width and keep it.</para>
/// </remarks>
public interface ILayer
{
    /// <summary>A short description with sizes, used in messages, e.g. <c>Dense(784→30)</c>.</summary>
    string Name { get; }

    /// <summary>Features per input sample, or 0 for an element-wise layer that accepts any width.</summary>
    int InputSize { get; }

    /// <summary>Features per output sample, or 0 for an element-wise layer (output width = input width).</summary>
    int OutputSize { get; }

    /// <summary>The trainable parameters with their gradients (empty for parameter-free layers).</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Draws initial parameter values. Called by the network, in layer order, with one shared generator.</summary>
    /// <param name="random">The network's initialization stream.</param>
    /// <param name="nextLayer">The layer that follows (its activation picks a default initializer), or null for the last layer.</param>
    void Initialize(RandomGenerator random, ILayer? nextLayer);

    /// <summary>Computes output = f(input) for a batch.</summary>
    /// <param name="input">batchSize × input width, row-major.</param>
    /// <param name="output">batchSize × output width, row-major; fully overwritten.</param>
    /// <param name="batchSize">Number of samples (rows).</param>
    /// <param name="training">True during training (layers such as dropout act only then).</param>
    void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training);

    /// <summary>
    /// Back-propagates a batch: given g = ∂C/∂output, adds ∂C/∂θ to each parameter's gradient and writes
    /// ∂C/∂input = (∂output/∂input)ᵀ g.
    /// </summary>
    /// <param name="input">The input given to the matching <see cref="Forward"/> call.</param>
    /// <param name="output">The output that call produced.</param>
    /// <param name="outputGradient">∂C/∂output, batchSize × output width.</param>
    /// <param name="inputGradient">Receives ∂C/∂input, batchSize × input width; empty when no one needs it (the first layer).</param>
    /// <param name="batchSize">Number of samples (rows).</param>
    void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize);
}
