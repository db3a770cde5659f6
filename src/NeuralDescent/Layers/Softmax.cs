using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Layers;

/// <summary>Softmax over each sample's row: yᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), a probability distribution over classes.</summary>
/// <remarks>
/// <para>Computed as exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x), which is equal and never overflows (logits of ±1000 are fine).</para>
/// <para>Backward: ∂C/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ yⱼ) with g = ∂C/∂y. Followed by <see cref="Costs.CrossEntropyCost"/>, the network skips
/// this and uses the fused, exact gradient ∂C/∂x = (y − t)/batchSize.</para>
/// </remarks>
public sealed class Softmax : ActivationLayer
{
    /// <inheritdoc />
    public override LayerSpec Describe() => new("Softmax");

    internal override ActivationKind Kind => ActivationKind.Softmax;

    /// <inheritdoc />
    public override string Name => "Softmax";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => ElementwiseKernels.SoftmaxForward(input, output, batchSize, width);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => ElementwiseKernels.SoftmaxBackward(output, outputGradient, inputGradient, batchSize, width);
}
