using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using NeuralDescent.Kernels;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Global average pooling: each channel's H × W plane becomes its mean, y[c] = (1/HW) Σᵢⱼ x[c, i, j].</summary>
/// <remarks>Input C × H × W, output C features. Backward: ∂C/∂x[c, i, j] = ∂C/∂y[c] / (H·W).</remarks>
public sealed class GlobalAvgPool2D : ILayer
{
    private int _plane;
    private int _channels;

    /// <inheritdoc />
    public string Name => "GlobalAvgPool2D";

    /// <summary>Null: any shape.</summary>
    public Shape? InputShape => null;

    /// <summary>Empty.</summary>
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public Shape Connect(Shape input)
    {
        _plane = input.Height * input.Width;
        _channels = input.Channels;
        return Shape.Features(input.Channels);
    }

    /// <summary>Nothing to draw.</summary>
    /// <param name="random">Unused.</param>
    /// <param name="nextLayer">Unused.</param>
    public void Initialize(RandomGenerator random, ILayer? nextLayer)
    {
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training)
    {
        int plane = Plane();
        LayerGuard.CheckBatch(this, input.Length, _channels * plane, output.Length, _channels, batchSize);
        float scale = 1f / plane;
        for (int i = 0; i < output.Length; i++) output[i] = ReductionKernels.Sum(input.Slice(i * plane, plane)) * scale;
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        if (inputGradient.IsEmpty) return;
        int plane = Plane();
        LayerGuard.CheckBatch(this, inputGradient.Length, _channels * plane, outputGradient.Length, _channels, batchSize);
        float scale = 1f / plane;
        for (int i = 0; i < outputGradient.Length; i++) inputGradient.Slice(i * plane, plane).Fill(outputGradient[i] * scale);
    }

    /// <inheritdoc />
    public LayerSpec Describe() => new("GlobalAvgPool2D");

    /// <inheritdoc />
    public override string ToString() => Name;

    private int Plane() => _plane != 0 ? _plane : throw new InvalidOperationException($"{Name} is not part of a network yet.");
}
