using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using NeuralDescent.Kernels;

namespace NeuralDescent.Layers;

/// <summary>The hyperbolic tangent, tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ), a zero-centred sigmoid with range (−1, 1).</summary>
/// <remarks>Derivative: tanh′(x) = 1 − tanh²(x), computed from the output.</remarks>
public sealed class Tanh : ActivationLayer
{
    /// <inheritdoc />
    public override LayerSpec Describe() => new("Tanh");

    /// <inheritdoc />
    public override string Name => "Tanh";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => TensorPrimitives.Tanh(input, output);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => ElementwiseKernels.TanhBackward(output, outputGradient, inputGradient);
}
