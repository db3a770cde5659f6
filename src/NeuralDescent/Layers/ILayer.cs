using NeuralDescent.Initialization;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>
/// One stage of a sequential network: a differentiable map from a batch of inputs to a batch of outputs, which says
/// what shapes it takes and gives, how it is saved and what it needs from its neighbours.
/// </summary>
/// <remarks>
/// <para>Batches are row-major matrices of batchSize rows; a row holds one sample of the layer's input or output
/// <see cref="Shape"/> (C·H·W floats, channel-major).</para>
/// <para>Lifecycle: the <see cref="Network"/> calls <see cref="Connect"/> once, in layer order, with the shape produced
/// before the layer, then <see cref="Initialize"/>; after that <see cref="Forward"/> and <see cref="Backward"/> run on
/// buffers the network owns. The network hands the same spans to <see cref="Forward"/> and later to
/// <see cref="Backward"/>, so the backward pass can use the forward input and output (the chain rule needs them).
/// A layer may keep per-batch scratch of its own (dropout's mask), sized to the largest batch it has seen.</para>
/// <para>Saving: <see cref="Describe"/> gives the layer's type and hyperparameters; its <see cref="Parameters"/> and
/// <see cref="State"/> tensors are saved under their names. <c>Serialization.LayerRegistry</c> maps the type back to a
/// factory when a model is loaded, so a user's own layer can be saved, loaded and checkpointed once registered.</para>
/// </remarks>
public interface ILayer
{
    /// <summary>A short description with sizes, used in messages, e.g. <c>Dense(784→30)</c>.</summary>
    string Name { get; }

    /// <summary>The input shape this layer requires, or null when it adapts to the shape it receives (element-wise layers, convolutions over any height and width).</summary>
    /// <remarks>A network built without an explicit input shape takes it from the first layer that states one.</remarks>
    Shape? InputShape { get; }

    /// <summary>
    /// Fixes the layer to <paramref name="input"/> and returns the shape it produces. Called once by the network when it
    /// is built, in layer order.
    /// </summary>
    /// <param name="input">The shape of each sample this layer will receive.</param>
    /// <returns>The shape of each sample it produces.</returns>
    /// <exception cref="ArgumentException">The layer cannot take <paramref name="input"/>; the message names the layer and what it expects.</exception>
    Shape Connect(Shape input);

    /// <summary>The trainable parameters with their gradients (empty for parameter-free layers).</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Non-trainable tensors that are part of the model (running statistics): saved and checkpointed, never optimized. Empty by default.</summary>
    IReadOnlyList<StateTensor> State => [];

    /// <summary>
    /// The initializer that suits the weights of the layer <em>before</em> this one, or null for no preference: ReLU-like
    /// activations ask for He initialization. A layer with parameters and no initializer of its own follows the hint of
    /// the layer after it.
    /// </summary>
    Initializer? PreferredInitializerBefore => null;

    /// <summary>Draws initial parameter values. Called by the network, in layer order, with one shared generator.</summary>
    /// <param name="random">The network's initialization stream.</param>
    /// <param name="nextLayer">The layer that follows (its <see cref="PreferredInitializerBefore"/> picks a default initializer), or null for the last layer.</param>
    void Initialize(RandomGenerator random, ILayer? nextLayer);

    /// <summary>Computes output = f(input) for a batch.</summary>
    /// <param name="input">batchSize × input size, row-major.</param>
    /// <param name="output">batchSize × output size, row-major; fully overwritten.</param>
    /// <param name="batchSize">Number of samples (rows).</param>
    /// <param name="training">True during training (layers such as dropout and batch normalization act differently then).</param>
    void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training);

    /// <summary>
    /// Back-propagates a batch: given g = ∂C/∂output, adds ∂C/∂θ to each parameter's gradient and writes
    /// ∂C/∂input = (∂output/∂input)ᵀ g.
    /// </summary>
    /// <param name="input">The input given to the matching <see cref="Forward"/> call.</param>
    /// <param name="output">The output that call produced.</param>
    /// <param name="outputGradient">∂C/∂output, batchSize × output size.</param>
    /// <param name="inputGradient">Receives ∂C/∂input, batchSize × input size; empty when no one needs it (the first layer).</param>
    /// <param name="batchSize">Number of samples (rows).</param>
    void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize);

    /// <summary>
    /// The layer's type and hyperparameters, from which <c>Serialization.LayerRegistry</c> rebuilds it when a model is
    /// loaded (its tensors are restored by name afterwards); null when the layer cannot be saved, which is the default.
    /// </summary>
    /// <returns>The description, or null.</returns>
    LayerSpec? Describe() => null;
}
