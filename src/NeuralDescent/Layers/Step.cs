using System.Runtime.CompilerServices;

namespace NeuralDescent.Layers;

/// <summary>The Heaviside step, H(x) = 1 for x &gt; 0, else 0: the all-or-nothing neuron of the perceptron.</summary>
/// <remarks>
/// Its derivative is 0 wherever it exists (everywhere but x = 0), so backpropagation passes no gradient through it and
/// gradient descent cannot learn the layers before it. It is here to show why a smooth cost needs continuous
/// activations (the tutorial's takeaway); compare the same network with <see cref="Sigmoid"/>.
/// </remarks>
public sealed class Step : ActivationLayer
{
    /// <inheritdoc />
    public override LayerSpec Describe() => new("Step");

    /// <inheritdoc />
    public override string Name => "Step";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        for (int i = 0; i < input.Length; i++) output[i] = input[i] > 0f ? 1f : 0f;
    }

    /// <summary>∂C/∂x = ∂C/∂y · H′(x) = 0.</summary>
    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => inputGradient.Clear();
}
