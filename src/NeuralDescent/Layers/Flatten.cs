using System.Runtime.CompilerServices;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Turns a C × H × W sample into a vector of C·H·W features, in channel-major order (PyTorch's <c>nn.Flatten</c>).</summary>
/// <remarks>The values do not move, only the shape changes: inside a network the output shares the previous layer's
/// buffer, and on its own forward and backward copy the values unchanged.</remarks>
public sealed class Flatten : IReshapesOnly
{
    /// <inheritdoc />
    public string Name => "Flatten";

    /// <summary>Null: any shape.</summary>
    public Shape? InputShape => null;

    /// <summary>Empty.</summary>
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public Shape Connect(Shape input) => Shape.Features(input.Size);

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
        LayerGuard.CheckElementwise(this, input.Length, output.Length, batchSize);
        input.CopyTo(output);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        if (inputGradient.IsEmpty) return;
        LayerGuard.CheckElementwise(this, outputGradient.Length, inputGradient.Length, batchSize);
        outputGradient.CopyTo(inputGradient);
    }

    /// <inheritdoc />
    public LayerSpec Describe() => new("Flatten");

    /// <inheritdoc />
    public override string ToString() => Name;
}
