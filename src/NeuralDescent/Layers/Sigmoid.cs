using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Layers;

/// <summary>The logistic sigmoid, σ(x) = 1 / (1 + e⁻ˣ), the tutorial's activation.</summary>
/// <remarks>Derivative: σ′(x) = σ(x)·(1 − σ(x)), computed from the output. It is at most ¼, which is why deep sigmoid stacks see vanishing gradients.</remarks>
public sealed class Sigmoid : ActivationLayer
{
    /// <inheritdoc />
    public override LayerSpec Describe() => new("Sigmoid");

    internal override ActivationKind Kind => ActivationKind.Sigmoid;

    /// <inheritdoc />
    public override string Name => "Sigmoid";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => ElementwiseKernels.Sigmoid(input, output);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => ElementwiseKernels.SigmoidBackward(output, outputGradient, inputGradient);
}
