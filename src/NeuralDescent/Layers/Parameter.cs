using System.Runtime.CompilerServices;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Layers;

/// <summary>
/// A trainable tensor of a layer: its values θ and the gradient ∂C/∂θ of the batch-mean cost,
/// stored as flat row-major arrays of <see cref="Rows"/>×<see cref="Columns"/> floats.
/// </summary>
/// <remarks>
/// Backward passes <em>add</em> into <see cref="Gradient"/>; the trainer zeroes it once per batch
/// (<see cref="ZeroGradient"/>), so gradients of several backward passes accumulate.
/// Optimizers keep their per-parameter state (moments, step counts) keyed by the parameter object.
/// </remarks>
public sealed class Parameter
{
    // Both start on a cache line, so that the kernels' full-width loads of a row never straddle two lines.
    private readonly AlignedFloats _values;
    private readonly AlignedFloats _gradient;
    private bool _gradientPendingZero;

    /// <summary>Creates a zero-valued parameter of shape rows×columns.</summary>
    /// <param name="name">Its name within the layer, such as <c>weight</c> or <c>bias</c>.</param>
    /// <param name="rows">Number of rows (1 for a vector).</param>
    /// <param name="columns">Number of columns.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, or the size exceeds 2³¹ − 1 elements.</exception>
    public Parameter(string name, int rows, int columns)
        : this(name, rows == 1 ? [columns] : [rows, columns])
    {
        // A 1×n parameter is a vector (a bias): saved with the one dimension PyTorch gives it.
    }

    /// <summary>Creates a zero-valued parameter of any number of dimensions, such as a convolution kernel out × in × kh × kw.</summary>
    /// <param name="name">Its name within the layer, such as <c>weight</c> or <c>bias</c>.</param>
    /// <param name="dimensions">The shape, outermost first; every dimension positive.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, or the size exceeds 2³¹ − 1 elements.</exception>
    public Parameter(string name, params int[] dimensions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        Name = name;
        Dimensions = [.. dimensions];
        int length = TensorSize.Checked(name, Dimensions);
        Rows = Dimensions.Count == 1 ? 1 : Dimensions[0];
        Columns = length / Rows;
        _values = new AlignedFloats(length);
        _gradient = new AlignedFloats(length);
    }

    /// <summary>Its name within the layer (<c>weight</c>, <c>bias</c>).</summary>
    public string Name { get; }

    /// <summary>The shape, outermost dimension first: <c>[out, in]</c> for a dense weight, <c>[out, in, kh, kw]</c> for a convolution kernel, <c>[n]</c> for a bias.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>Number of rows of the 2-D view (the first dimension; 1 for a vector): a dense weight is outputSize × inputSize (PyTorch's <c>Linear</c> layout).</summary>
    public int Rows { get; }

    /// <summary>Number of columns of the 2-D view: the product of the dimensions after the first.</summary>
    public int Columns { get; }

    /// <summary>Number of elements, <see cref="Rows"/>·<see cref="Columns"/>.</summary>
    public int Length => _values.Length;

    /// <summary>The values θ, row-major.</summary>
    public Span<float> Values => _values.Span;

    /// <summary>The gradient ∂C/∂θ of the batch-mean cost, row-major, same shape as <see cref="Values"/>.</summary>
    public Span<float> Gradient
    {
        get
        {
            if (_gradientPendingZero)
            {
                _gradient.Span.Clear();
                _gradientPendingZero = false;
            }
            return _gradient.Span;
        }
    }

    /// <summary>Sets every gradient element to 0.</summary>
    /// <remarks>
    /// The clearing is deferred: the next read of <see cref="Gradient"/> sees zeros, and a built-in layer's next backward
    /// pass writes its gradient instead of adding to zeros, which saves a pass over the memory on every batch.
    /// </remarks>
    public void ZeroGradient() => _gradientPendingZero = true;

    /// <summary>
    /// The gradient buffer for a backward pass to add into; <paramref name="isZero"/> tells whether it is logically zero
    /// (then the caller must overwrite every element instead of adding).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal Span<float> GradientForAccumulation(out bool isZero)
    {
        isZero = _gradientPendingZero;
        _gradientPendingZero = false;
        return _gradient.Span;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join('×', Dimensions)}]";
}
