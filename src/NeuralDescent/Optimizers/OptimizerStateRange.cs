using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Optimizers;

/// <summary>
/// One parameter's optimizer state buffers over the element range a <see cref="StatefulOptimizer"/> update is given:
/// <c>state[i]</c> is buffer i (in <see cref="StatefulOptimizer.StateNames"/> order) at the same indices as the values
/// and gradient passed with it.
/// </summary>
public readonly ref struct OptimizerStateRange
{
    private readonly AlignedFloats[] _buffers;
    private readonly int _start;
    private readonly int _length;

    internal OptimizerStateRange(AlignedFloats[] buffers, int start, int length)
    {
        _buffers = buffers;
        _start = start;
        _length = length;
    }

    /// <summary>Number of state buffers.</summary>
    public int Count => _buffers?.Length ?? 0;

    /// <summary>State buffer <paramref name="index"/> over the range.</summary>
    /// <param name="index">0 … <see cref="Count"/> − 1.</param>
    /// <returns>The live values, updated in place by the rule.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a buffer of this optimizer.</exception>
    public Span<float> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"This optimizer keeps {Count} state buffer(s) per parameter.");
            return _buffers[index].Span.Slice(_start, _length);
        }
    }
}
