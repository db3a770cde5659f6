using System.Runtime.CompilerServices;
using NeuralDescent.Initialization;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>
/// Base of the parameter-free element-wise layers y = f(x): any shape in, the same shape out.
/// </summary>
/// <remarks>Backward computes ∂C/∂x = ∂C/∂y ⊙ f′(x), with f′ written in terms of whichever of x or y is cheaper.</remarks>
public abstract class ActivationLayer : ILayer
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>Null: an element-wise layer adapts to any shape.</summary>
    public Shape? InputShape => null;

    /// <summary>Returns <paramref name="input"/>: the output has the input's shape.</summary>
    /// <param name="input">Any shape.</param>
    /// <returns><paramref name="input"/>.</returns>
    public Shape Connect(Shape input) => input;

    /// <inheritdoc />
    public virtual Initializer? PreferredInitializerBefore => null;

    /// <summary>What the library may fuse into the layer before this one or into the cost after it.</summary>
    internal virtual ActivationKind Kind => ActivationKind.Other;

    /// <summary>The spec of a built-in activation; null (cannot be saved) for a derived class that does not override it.</summary>
    /// <returns>The spec, or null.</returns>
    public virtual LayerSpec? Describe() => null;

    /// <summary>Empty: activations have no parameters.</summary>
    public IReadOnlyList<Parameter> Parameters => [];

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
        int width = LayerGuard.CheckElementwise(this, input.Length, output.Length, batchSize);
        if (training) ApplyTraining(input, output, batchSize, width);
        else Apply(input, output, batchSize, width);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        if (inputGradient.IsEmpty) return;
        int width = LayerGuard.CheckElementwise(this, input.Length, output.Length, batchSize);
        LayerGuard.CheckElementwise(this, outputGradient.Length, inputGradient.Length, batchSize);
        if (outputGradient.Length != output.Length)
            throw new ArgumentException($"{Name}: output gradient has {outputGradient.Length} values but output has {output.Length}.");
        Derive(input, output, outputGradient, inputGradient, batchSize, width);
    }

    /// <summary>Computes y = f(x) for a batch of <paramref name="batchSize"/> rows of <paramref name="width"/> values.</summary>
    /// <param name="input">x.</param>
    /// <param name="output">y, same length.</param>
    /// <param name="batchSize">Rows.</param>
    /// <param name="width">Values per row.</param>
    protected abstract void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width);

    /// <summary>The training-mode forward pass; the same as <see cref="Apply"/> unless a layer (dropout) behaves differently in training.</summary>
    /// <param name="input">x.</param>
    /// <param name="output">y, same length.</param>
    /// <param name="batchSize">Rows.</param>
    /// <param name="width">Values per row.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected virtual void ApplyTraining(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => Apply(input, output, batchSize, width);

    /// <summary>Computes ∂C/∂x from ∂C/∂y, x and y.</summary>
    /// <param name="input">x.</param>
    /// <param name="output">y = f(x).</param>
    /// <param name="outputGradient">∂C/∂y.</param>
    /// <param name="inputGradient">Receives ∂C/∂x.</param>
    /// <param name="batchSize">Rows.</param>
    /// <param name="width">Values per row.</param>
    protected abstract void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width);

    /// <inheritdoc />
    public override string ToString() => Name;
}
