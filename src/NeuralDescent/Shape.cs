namespace NeuralDescent;

/// <summary>
/// The shape of one sample as it flows between layers: channels × height × width, stored channel-major (C, H, W order,
/// PyTorch's NCHW without the batch). A plain feature vector of n values is n × 1 × 1.
/// </summary>
/// <remarks>
/// <para>A batch is always a row-major matrix of batchSize × <see cref="Size"/> floats: sample s, channel c, row y,
/// column x sits at <c>((s·C + c)·H + y)·W + x</c>.</para>
/// <para>Two shapes chain only when they are equal: a 1×28×28 image and 784 features hold the same number of values but
/// are different shapes, and a <see cref="Layers.Flatten"/> layer turns the first into the second.</para>
/// </remarks>
public readonly record struct Shape
{
    /// <summary>Creates a channels × height × width shape.</summary>
    /// <param name="channels">C, at least 1.</param>
    /// <param name="height">H, at least 1.</param>
    /// <param name="width">W, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or C·H·W exceeds 2³¹ − 1.</exception>
    public Shape(int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long size = (long)channels * height * width;
        if (size > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(channels), $"A sample of {channels}×{height}×{width} = {size} values exceeds {int.MaxValue}.");
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>A vector of <paramref name="count"/> features (count × 1 × 1).</summary>
    /// <param name="count">Number of features, at least 1.</param>
    /// <returns>The shape.</returns>
    public static Shape Features(int count) => new(count, 1, 1);

    /// <summary>An image of <paramref name="channels"/> planes of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <returns>The shape.</returns>
    public static Shape Image(int channels, int height, int width) => new(channels, height, width);

    /// <summary>C, the number of channels (the number of features for a vector).</summary>
    public int Channels { get; }

    /// <summary>H, rows of each channel (1 for a vector).</summary>
    public int Height { get; }

    /// <summary>W, columns of each channel (1 for a vector).</summary>
    public int Width { get; }

    /// <summary>C·H·W, the number of floats per sample.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>Whether this is a plain feature vector (H = W = 1).</summary>
    public bool IsFeatures => Height == 1 && Width == 1;

    /// <summary><c>784</c> for a vector, <c>32×26×26</c> for channels × height × width.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsFeatures ? $"{Channels}" : $"{Channels}×{Height}×{Width}";
}
