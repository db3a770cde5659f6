namespace NeuralDescent.Kernels.Common;

/// <summary>
/// Floats whose first element starts a 64-byte cache line: a pinned array (never moved by the GC) with up to 15 spare
/// floats before the aligned start. A full-width vector load from it never straddles two cache lines, which matters
/// when a kernel streams a row from L2 (a 128×784 GEMV row by row: 2.4 µs aligned, 3.9 µs at a 16-byte offset on a
/// Zen 5).
/// </summary>
internal readonly struct AlignedFloats
{
    /// <summary>Floats per cache line.</summary>
    private const int LineFloats = 16;

    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>Allocates <paramref name="length"/> zeroed floats.</summary>
    public unsafe AlignedFloats(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _array = GC.AllocateArray<float>(length + LineFloats - 1, pinned: true);
        fixed (float* start = _array)
        {
            _offset = (int)((LineFloats - ((nuint)start / sizeof(float)) % LineFloats) % LineFloats);
        }
        Length = length;
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>The floats, starting on a cache line.</summary>
    public Span<float> Span => new(_array, _offset, Length);

    /// <summary>The same floats as <see cref="Span"/>, as a <see cref="Memory{T}"/> that can be kept.</summary>
    public Memory<float> Memory => new(_array, _offset, Length);
}
