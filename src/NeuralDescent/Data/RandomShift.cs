using NeuralDescent.Randomness;

namespace NeuralDescent.Data;

/// <summary>
/// Shifts an image by a random whole number of pixels, dx and dy each uniform in [−max, max], filling with 0:
/// out(x, y) = in(x − dx, y − dy). For digits this teaches position invariance (a plain MLP does not have it).
/// </summary>
public sealed class RandomShift : IAugmentation
{
    private readonly float[] _scratch;

    /// <summary>Creates the augmentation for row-major images of <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    /// <param name="maxShift">The largest shift in pixels, in each direction; default 2.</param>
    /// <param name="width">Image width; default 28 (MNIST).</param>
    /// <param name="height">Image height; default 28.</param>
    public RandomShift(int maxShift = 2, int width = 28, int height = 28)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxShift);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        MaxShift = maxShift;
        Width = width;
        Height = height;
        _scratch = new float[width * height];
    }

    /// <summary>The largest shift in pixels.</summary>
    public int MaxShift { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <inheritdoc />
    public void Apply(Span<float> input, RandomGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (input.Length != Width * Height)
            throw new ArgumentException($"RandomShift expects {Width}×{Height} = {Width * Height} values but got {input.Length}.", nameof(input));
        int dx = random.NextInt32(2 * MaxShift + 1) - MaxShift;
        int dy = random.NextInt32(2 * MaxShift + 1) - MaxShift;
        if (dx == 0 && dy == 0) return;
        input.CopyTo(_scratch);
        input.Clear();
        for (int y = 0; y < Height; y++)
        {
            int sourceY = y - dy;
            if ((uint)sourceY >= (uint)Height) continue;
            int x0 = Math.Max(0, dx), x1 = Math.Min(Width, Width + dx);
            _scratch.AsSpan(sourceY * Width + x0 - dx, x1 - x0).CopyTo(input.Slice(y * Width + x0, x1 - x0));
        }
    }
}
