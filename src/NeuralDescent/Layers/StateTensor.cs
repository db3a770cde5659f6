namespace NeuralDescent.Layers;

/// <summary>
/// A non-trainable tensor that belongs to a layer's state, such as batch normalization's running mean and variance:
/// saved with the model and in checkpoints, never touched by an optimizer (PyTorch calls these buffers).
/// </summary>
public sealed class StateTensor
{
    private readonly float[] _values;

    /// <summary>Creates a zero-filled state tensor.</summary>
    /// <param name="name">Its name within the layer, such as <c>running_mean</c>; saved as <c>{layer index}.{name}</c>.</param>
    /// <param name="dimensions">Its shape; every dimension positive.</param>
    /// <exception cref="ArgumentException">The name is empty or a dimension is not positive, or the size exceeds 2³¹ − 1.</exception>
    public StateTensor(string name, params int[] dimensions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Dimensions = [.. dimensions];
        _values = new float[TensorSize.Checked(name, Dimensions)];
    }

    /// <summary>Its name within the layer.</summary>
    public string Name { get; }

    /// <summary>The shape, outermost dimension first.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>Number of elements.</summary>
    public int Length => _values.Length;

    /// <summary>The values, row-major.</summary>
    public Span<float> Values => _values;

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join('×', Dimensions)}]";
}
