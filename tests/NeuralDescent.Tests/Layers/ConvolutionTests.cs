using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Kernels;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Serialization;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

using NeuralDescent.Tests.Kernels;

namespace NeuralDescent.Tests.Layers;

[Collection(SimdSwitchCollection.Name)]
public sealed class ConvolutionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-conv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>y[o, i, j] = b[o] + Σ W[o, c, u, v]·x[c, i·s + u − p, j·s + v − p], written out as the definition.</summary>
    private static float[] DirectConvolution(Conv2D conv, Shape input, float[] x)
    {
        int k = conv.KernelSize, s = conv.Stride, p = conv.Padding;
        int oh = (input.Height + 2 * p - k) / s + 1, ow = (input.Width + 2 * p - k) / s + 1;
        var y = new float[conv.OutputChannels * oh * ow];
        ReadOnlySpan<float> w = conv.Weights.Values;
        for (int o = 0; o < conv.OutputChannels; o++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double sum = conv.Biases.Values[o];
                    for (int c = 0; c < input.Channels; c++)
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++)
                            {
                                int row = i * s + u - p, col = j * s + v - p;
                                if (row < 0 || row >= input.Height || col < 0 || col >= input.Width) continue;
                                sum += (double)w[((o * input.Channels + c) * k + u) * k + v] * x[(c * input.Height + row) * input.Width + col];
                            }
                    y[(o * oh + i) * ow + j] = (float)sum;
                }
        return y;
    }

    [Theory]
    [InlineData(1, 4, 3, 1, 0, 28, 28)]
    [InlineData(3, 5, 3, 2, 1, 9, 7)]
    [InlineData(2, 3, 5, 3, 2, 11, 13)]
    [InlineData(4, 2, 1, 1, 0, 3, 5)]
    [InlineData(4, 6, 3, 1, 0, 9, 11)]    // Winograd F(2×2, 3×3): odd output sizes, clipped tiles
    [InlineData(5, 3, 3, 1, 1, 8, 7)]
    [InlineData(8, 9, 3, 1, 2, 5, 6)]
    [InlineData(32, 64, 3, 1, 0, 26, 26)] // the second convolution of W4
    [InlineData(6, 4, 3, 1, 1, 40, 3)]    // several tile groups
    public void Conv2D_Forward_MatchesTheDefinition(int inChannels, int outChannels, int kernel, int stride, int padding, int height, int width)
    {
        var conv = new Conv2D(inChannels, outChannels, kernel, stride, padding);
        var input = Shape.Image(inChannels, height, width);
        var network = new Network(3, input, conv);
        Rand.Floats(outChannels, 4).CopyTo(conv.Biases.Values);
        const int batch = 2;
        float[] x = Rand.Floats(batch * input.Size, 5);
        var y = new float[batch * network.OutputSize];
        network.PredictBatch(x, y, batch);
        for (int s = 0; s < batch; s++)
        {
            float[] expected = DirectConvolution(conv, input, x.AsSpan(s * input.Size, input.Size).ToArray());
            float[] actual = y.AsSpan(s * expected.Length, expected.Length).ToArray();
            for (int i = 0; i < expected.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-4f, $"sample {s}, output {i}");
        }
        network.OutputShape.Should().Be(Shape.Image(outChannels, (height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1));
    }

    [Theory]
    [InlineData(32, 64, 3, 1, 0, 26, 26)] // W4's second convolution: rows of 24 positions, two K blocks
    [InlineData(5, 17, 3, 1, 1, 6, 11)]   // padding: border values one by one; 45 entries, the last panel part-filled
    [InlineData(3, 20, 3, 2, 1, 9, 7)]    // stride 2: value by value
    [InlineData(2, 24, 5, 1, 2, 30, 29)]  // 5 × 5, rows of 29: vector groups start in the middle of a row
    public unsafe void WeightGradient_FromPatchPanels_IsBitwiseTheIm2ColProduct(int inChannels, int outChannels, int kernel, int stride, int padding, int height, int width)
    {
        var g = new WindowGeometry(inChannels, height, width, kernel, stride, padding);
        int patch = g.PatchSize, positions = g.OutputPlane, block = MatrixKernels.KBlock(outChannels, positions);
        MatrixKernels.UsesPanels(false, true, outChannels, patch, positions).Should().BeTrue("the shape must take the panel path");
        float[] x = Rand.Floats(inChannels * height * width, 11), dy = Rand.Floats(outChannels * positions, 12);
        float[] columns = new float[patch * positions], expected = Rand.Floats(outChannels * patch, 13), actual = expected.ToArray();
        ConvolutionKernels.Im2Col(g, x, columns);
        MatrixKernels.Gemm(false, true, outChannels, patch, positions, dy, positions, columns, positions, expected, patch, accumulate: true);
        // Scratch filled with NaN: every padding value the product reads must be written.
        float[] packedG = Enumerable.Repeat(float.NaN, MatrixKernels.PackedASize(outChannels, block)).ToArray();
        float[] packedX = Enumerable.Repeat(float.NaN, MatrixKernels.PackedBSize(patch, block)).ToArray();
        fixed (float* pdy = dy, pg = packedG, px = packedX, pw = actual)
            ConvolutionBatch.AddWeightGradient(g, outChannels, x, pdy, pg, px, pw, accumulate: true);
        actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(32, 64, 3, 0, 26, 26)] // W4's second convolution: output rows of 24, two tiles each
    [InlineData(32, 20, 3, 1, 10, 12)] // padding 1: contributions to the border are dropped
    [InlineData(64, 24, 5, 2, 9, 24)]  // 5 × 5, padding 2, two 32-channel column tiles
    public unsafe void InputGradient_ByTaps_IsBitwiseTheProductFoldedByCol2Im(int inChannels, int outChannels, int kernel, int padding, int height, int width)
    {
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            MatrixKernels.Vector512Enabled = true;
            var g = new WindowGeometry(inChannels, height, width, kernel, 1, padding);
            ConvolutionBatch.UsesTapsForInputGradient(g, outChannels).Should().BeTrue();
            int patch = g.PatchSize, positions = g.OutputPlane, inSize = inChannels * height * width;
            float[] w = Rand.Floats(outChannels * patch, 31), dy = Rand.Floats(outChannels * positions, 32);
            // The layer's own path: Wᵀ·G a block of rows at a time, each folded back by col2im onto zeros.
            float[] expected = new float[inSize], columns = new float[MatrixKernels.Mc * positions];
            for (int r0 = 0; r0 < patch; r0 += MatrixKernels.Mc)
            {
                int rows = Math.Min(MatrixKernels.Mc, patch - r0);
                MatrixKernels.Gemm(true, false, rows, positions, outChannels, w.AsSpan(r0), patch, dy, positions, columns, positions, accumulate: false);
                ConvolutionKernels.Col2ImAdd(g, columns, expected, r0, rows);
            }
            float[] byTap = new float[outChannels * patch];
            ConvolutionBatch.WeightsByTap(g, outChannels, w, byTap);
            float[] packed = Enumerable.Repeat(float.NaN, MatrixKernels.PackedASize(positions, outChannels)).ToArray();
            float[] last = Enumerable.Repeat(float.NaN, (height + 2 * padding) * (width + 2 * padding) * inChannels).ToArray();
            float[] actual = Enumerable.Repeat(float.NaN, inSize).ToArray();
            fixed (float* pdy = dy, pt = byTap, pp = packed, pl = last)
                ConvolutionBatch.InputGradientByTaps(g, outChannels, pdy, pt, pp, pl, actual);
            actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    [Theory]
    [InlineData(8, 5, 9, 0)]   // one 8-channel block; rows of 9 end with an overlapping block
    [InlineData(24, 7, 13, 1)] // a 16-channel pair and a single 8-channel block, padding 1
    [InlineData(16, 3, 5, 2)]  // rows shorter than 8: value by value
    [InlineData(3, 4, 10, 1)]  // channels not a multiple of 8: value by value
    public void ToChannelsLast_MovesEachValue_AndZeroPadsTheBorder_FromChannelsLastMovesThemBack(int channels, int height, int width, int padding)
    {
        var g = new WindowGeometry(channels, height, width, 3, 1, padding);
        float[] x = Rand.Floats(channels * height * width, 41);
        int wp = width + 2 * padding, hp = height + 2 * padding;
        float[] dst = Enumerable.Repeat(float.NaN, hp * wp * channels).ToArray();
        ConvolutionKernels.ToChannelsLast(g, x, dst);
        for (int y = 0; y < hp; y++)
        for (int xx = 0; xx < wp; xx++)
        for (int c = 0; c < channels; c++)
        {
            int iy = y - padding, ix = xx - padding;
            float expected = iy >= 0 && iy < height && ix >= 0 && ix < width ? x[(c * height + iy) * width + ix] : 0f;
            dst[(y * wp + xx) * channels + c].Should().Be(expected, $"position ({y}, {xx}), channel {c}");
        }
        float[] back = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        ConvolutionKernels.FromChannelsLast(g, dst, back);
        back.Should().Equal(x);
    }

    [Theory]
    [InlineData(32, 64, 3, 0, 26, 26)] // W4's second convolution: two K blocks of twelve output rows
    [InlineData(32, 17, 3, 1, 6, 11)]  // padding; 17 rows of G: a 12-row tile and a 5-row one
    [InlineData(64, 24, 5, 2, 9, 13)]  // 5 × 5, padding 2, two 32-channel column tiles
    [InlineData(32, 20, 3, 0, 30, 31)] // K blocks of 272 positions that start in the middle of an output row
    public unsafe void WeightGradient_ByTaps_IsBitwiseTheIm2ColProduct(int inChannels, int outChannels, int kernel, int padding, int height, int width)
    {
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            MatrixKernels.Vector512Enabled = true; // the path needs the 512-bit kernels (in software where AVX-512 is absent)
            var g = new WindowGeometry(inChannels, height, width, kernel, 1, padding);
            ConvolutionBatch.UsesTaps(g).Should().BeTrue();
            int patch = g.PatchSize, positions = g.OutputPlane, block = MatrixKernels.KBlock(outChannels, positions);
            MatrixKernels.UsesPanels(false, true, outChannels, patch, positions).Should().BeTrue("the layer takes the tap path only where the product uses panels");
            float[][] x = [Rand.Floats(inChannels * height * width, 21), Rand.Floats(inChannels * height * width, 22)];
            float[][] dy = [Rand.Floats(outChannels * positions, 23), Rand.Floats(outChannels * positions, 24)];
            float[] columns = new float[patch * positions], expected = new float[outChannels * patch];
            for (int s = 0; s < 2; s++)
            {
                ConvolutionKernels.Im2Col(g, x[s], columns);
                MatrixKernels.Gemm(false, true, outChannels, patch, positions, dy[s], positions, columns, positions, expected, patch, accumulate: s > 0);
            }
            // Scratch filled with NaN: the padding of x and of G's panels must be written, never read unwritten.
            float[] packedG = Enumerable.Repeat(float.NaN, MatrixKernels.PackedASize(outChannels, block)).ToArray();
            float[] channelsLast = Enumerable.Repeat(float.NaN, (height + 2 * padding) * (width + 2 * padding) * inChannels).ToArray();
            float[] taps = Enumerable.Repeat(float.NaN, outChannels * patch).ToArray(), actual = new float[outChannels * patch];
            fixed (float* pg = packedG, pl = channelsLast, pt = taps)
            {
                for (int s = 0; s < 2; s++)
                {
                    fixed (float* pdy = dy[s])
                        ConvolutionBatch.AddWeightGradientByTaps(g, outChannels, x[s], pdy, pg, pl, pt, accumulate: s > 0);
                }
            }
            ConvolutionBatch.TapsToWeights(g, outChannels, taps, actual);
            actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    [Theory]
    [InlineData(32, 3, 1, 0, 26, 26)] // W4's second convolution: rows of 24, one vector of 16 and one of 8
    [InlineData(5, 3, 1, 1, 6, 11)]   // padding: runs shorter than the row at the edges
    [InlineData(3, 5, 1, 2, 30, 29)]  // runs of 25 to 29 values
    [InlineData(4, 3, 2, 1, 9, 7)]    // stride 2: value by value
    [InlineData(2, 3, 1, 2, 2, 3)]    // padding 2 on a 2 × 3 input: rows with nothing inside
    public void Col2ImAdd_AddsEachColumnEntryToItsInputPosition_InRowOrder(int channels, int kernel, int stride, int padding, int height, int width)
    {
        var g = new WindowGeometry(channels, height, width, kernel, stride, padding);
        float[] col = Rand.Floats(g.PatchSize * g.OutputPlane, 31);
        var expected = new float[channels * height * width];
        for (int j = 0; j < g.PatchSize; j++)
        for (int oy = 0; oy < g.OutputHeight; oy++)
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            int c = j / (kernel * kernel), iy = oy * stride + j / kernel % kernel - padding, ix = ox * stride + j % kernel - padding;
            if (iy >= 0 && iy < height && ix >= 0 && ix < width) expected[(c * height + iy) * width + ix] += col[j * g.OutputPlane + oy * g.OutputWidth + ox];
        }
        float[] actual = new float[expected.Length];
        int half = g.PatchSize / 2;
        ConvolutionKernels.Col2ImAdd(g, col, actual, 0, half); // in two blocks of rows, as the backward pass folds them
        ConvolutionKernels.Col2ImAdd(g, col.AsSpan(half * g.OutputPlane), actual, half, g.PatchSize - half);
        actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(32, 64, 26, 26, 0)] // W4's second convolution: twelve tiles per row, one group of eight and one of four
    [InlineData(5, 7, 9, 37, 1)]    // nineteen tiles per row: two groups of eight, then four, the last row clipped
    public void WinogradTransforms_EightOrFourTilesPerVector_GiveTheSameBits(int inChannels, int outChannels, int height, int width, int padding)
    {
        var conv = new Conv2D(inChannels, outChannels, 3, padding: padding);
        var network = new Network(3, Shape.Image(inChannels, height, width), conv, new ReLU());
        conv.UsesWinograd.Should().BeTrue();
        Rand.Floats(outChannels, 4).CopyTo(conv.Biases.Values);
        const int batch = 3;
        float[] x = Rand.Floats(batch * network.InputSize, 5);
        var wide = new float[batch * network.OutputSize];
        var narrow = new float[wide.Length];
        bool saved = WinogradKernels.Wide;
        try
        {
            WinogradKernels.Wide = true;
            network.PredictBatch(x, wide, batch);
            WinogradKernels.Wide = false;
            network.PredictBatch(x, narrow, batch);
        }
        finally
        {
            WinogradKernels.Wide = saved;
        }
        narrow.Select(BitConverter.SingleToInt32Bits).Should().Equal(wide.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void WinogradConv2D_AfterANaNBatchAndAnotherSize_StillMatchesTheDefinition()
    {
        // Five channels: the products' K is padded to 8. Those rows meet zeros in the packed filters, so they must hold
        // zeros too (0 · NaN is NaN): a batch of NaNs in one layout must not leak into the next (the layer on its own,
        // since ILayer.Connect is public; a Network never reconnects its layers).
        var conv = new Conv2D(5, 4, 3, padding: 1);
        conv.Initialize(new NeuralDescent.Randomness.RandomGenerator(3), null);
        Shape first = Shape.Image(5, 20, 20);
        conv.Connect(first);
        conv.Forward(Enumerable.Repeat(float.NaN, 2 * first.Size).ToArray(), new float[2 * 4 * 20 * 20], 2, training: false);
        foreach (Shape input in new[] { Shape.Image(5, 9, 9), Shape.Image(5, 6, 13), Shape.Image(5, 11, 7) })
        {
            Shape output = conv.Connect(input);
            float[] x = Rand.Floats(2 * input.Size, 11);
            var y = new float[2 * output.Size];
            conv.Forward(x, y, 2, training: false);
            for (int s = 0; s < 2; s++)
            {
                float[] expected = DirectConvolution(conv, input, x.AsSpan(s * input.Size, input.Size).ToArray());
                for (int i = 0; i < expected.Length; i++) y[s * expected.Length + i].Should().BeApproximately(expected[i], 1e-4f, $"{input}, sample {s}, output {i}");
            }
        }
    }

    [Fact]
    public void Network_ShapeMismatch_NamesBothLayersAndBothShapes()
    {
        FluentActions.Invoking(() => new Network(Shape.Image(1, 28, 28), new Conv2D(1, 32, 3), new Dense(784, 128)))
            .Should().Throw<ArgumentException>()
            .WithMessage("Shape mismatch: layer 0 Conv2D(1→32, 3×3) gives 32×26×26, layer 1 Dense(784→128) expects 784 features.*");
        FluentActions.Invoking(() => new Network(Shape.Image(1, 28, 28), new Dense(784, 10)))
            .Should().Throw<ArgumentException>().WithMessage("*the network input gives 1×28×28, layer 0 Dense(784→10) expects 784 features; put a Flatten layer before it*");
        FluentActions.Invoking(() => new Network(Shape.Image(3, 8, 8), new Conv2D(1, 4, 3)))
            .Should().Throw<ArgumentException>().WithMessage("*gives 3×8×8, layer 0 Conv2D(1→4, 3×3) expects 1 input channels*");
        FluentActions.Invoking(() => new Network(new Conv2D(1, 4, 3), new Flatten()))
            .Should().Throw<ArgumentException>().WithMessage("*No layer states the input shape*");
        var flat = new Network(Shape.Image(1, 28, 28), new Conv2D(1, 2, 3), new MaxPool2D(2), new Flatten(), new Dense(2 * 13 * 13, 10));
        flat.ShapeBefore(2).Should().Be(Shape.Image(2, 13, 13));
        flat.ShapeBefore(3).Should().Be(Shape.Features(338));
        flat.OutputShape.Should().Be(Shape.Features(10));
    }

    [Fact]
    public void BadConstructionOrInput_IsAnArgumentExceptionNamingTheLayerAndSizes()
    {
        FluentActions.Invoking(() => new Conv2D(0, 4, 3)).Should().Throw<ArgumentException>().WithMessage("Conv2D(0→4): channel counts must be positive*");
        FluentActions.Invoking(() => new Conv2D(1, 4, 3, stride: 0)).Should().Throw<ArgumentException>().WithMessage("Conv2D(1→4, 3×3): stride 0 must be positive*");
        FluentActions.Invoking(() => new Conv2D(1, 4, 0)).Should().Throw<ArgumentException>().WithMessage("*kernel size 0*");
        FluentActions.Invoking(() => new MaxPool2D(2, stride: 0)).Should().Throw<ArgumentException>().WithMessage("MaxPool2D(2): stride 0 must be positive*");
        FluentActions.Invoking(() => new BatchNorm(0)).Should().Throw<ArgumentException>().WithMessage("BatchNorm(0)*");
        FluentActions.Invoking(() => new Network(Shape.Image(1, 4, 4), new Conv2D(1, 2, 5)))
            .Should().Throw<ArgumentException>().WithMessage("*Conv2D(1→2, 5×5) has a kernel larger than its padded input (4×4)*");
        FluentActions.Invoking(() => new Network(Shape.Image(2, 7, 7), new MaxPool2D(2)))
            .Should().Throw<ArgumentException>().WithMessage("*MaxPool2D(2) does not tile its input 2×7×7*");
        FluentActions.Invoking(() => new Network(Shape.Image(2, 8, 8), new BatchNorm(3)))
            .Should().Throw<ArgumentException>().WithMessage("*BatchNorm(3) expects 3 channels*");
        FluentActions.Invoking(() => new Conv2D(1, 2, 3).Forward(new float[9], new float[2], 1, false))
            .Should().Throw<InvalidOperationException>().WithMessage("*not part of a network*");
    }

    private static Dataset Images(int count, ulong seed)
    {
        // 1×12×12 images whose class is the quadrant holding the brightest 3×3 blob.
        var g = new NeuralDescent.Randomness.RandomGenerator(seed);
        var x = new float[count * 144];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < 144; i++) x[n * 144 + i] = 0.2f * g.NextSingle();
            int label = g.NextInt32(4), top = (label / 2) * 6 + g.NextInt32(4), left = (label % 2) * 6 + g.NextInt32(4);
            for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) x[n * 144 + (top + r) * 12 + left + c] += 0.8f;
            labels[n] = label;
        }
        return Dataset.FromLabels(x, 144, labels, 4);
    }

    private static Network SmallCnn(int seed) => new(seed, Shape.Image(1, 12, 12),
        new Conv2D(1, 6, 3, padding: 1), new ReLU(), new BatchNorm(6), new MaxPool2D(2),
        new Conv2D(6, 8, 3), new ReLU(), new Dropout(0.25f), new AvgPool2D(2),
        new Flatten(), new Dense(8 * 2 * 2, 16), new BatchNorm(16), new ReLU(), new Dense(16, 4), new Softmax());

    /// <summary>The other layers: strided and padded convolutions, global average pooling, batch norm on features.</summary>
    private static Network GlobalPoolCnn(int seed) => new(seed, Shape.Image(1, 12, 12),
        new Conv2D(1, 8, 3, stride: 2, padding: 1), new BatchNorm(8), new LeakyReLU(0.1f), new Conv2D(8, 12, 3, padding: 1), new ReLU(),
        new GlobalAvgPool2D(), new BatchNorm(12), new Dense(12, 4), new Softmax());

    public static TheoryData<string> Cnns() => new() { "small", "global-pool" };

    private static Network Cnn(string name, int seed) => name == "small" ? SmallCnn(seed) : GlobalPoolCnn(seed);

    [Theory]
    [MemberData(nameof(Cnns))]
    public void Cnn_Learns_AndIsBitwiseTheSameFor1_2And3Threads(string name)
    {
        Dataset train = Images(512, 1), test = Images(256, 2);
        int saved = ComputeOptions.ThreadCount;
        var weights = new List<int[]>();
        double accuracy = 0;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                ComputeOptions.ThreadCount = threads;
                Network network = Cnn(name, 7);
                var trainer = new Trainer(new CrossEntropyCost(), new Adam(0.01f), new TrainerOptions { Epochs = 4, BatchSize = 32, Seed = 3 });
                TrainingHistory history = trainer.Fit(network, train, test, cancellationToken: TestContext.Current.CancellationToken);
                accuracy = history.Epochs[^1].TestAccuracy!.Value;
                weights.Add(network.Parameters.Concat<object>(network.State).SelectMany(t => t is Parameter p ? p.Values.ToArray() : ((StateTensor)t).Values.ToArray())
                    .Select(BitConverter.SingleToInt32Bits).ToArray());
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
        accuracy.Should().BeGreaterThan(name == "small" ? 0.9 : 0.6, "the quadrant of a bright blob is easy for a CNN (global pooling discards where it is, so less so)");
        weights[1].Should().Equal(weights[0]);
        weights[2].Should().Equal(weights[0]);
    }

    public static TheoryData<string, int, int> PoolsAfterRelu() => new()
    {
        { "max 2", 20, 20 }, { "max 2", 16, 16 }, { "max 2", 12, 16 }, { "max 3 stride 1", 20, 20 }, { "avg 2", 20, 20 },
    };

    private static ILayer Pool(string kind) => kind switch
    {
        "max 2" => new MaxPool2D(2),
        "max 3 stride 1" => new MaxPool2D(3, 1),
        _ => new AvgPool2D(2),
    };

    /// <summary>
    /// Convolution → ReLU → pooling goes back in one pass, sample by sample (the pooling's and ReLU's backward inside the
    /// convolution's), and a Winograd convolution pools 2 × 2 max windows in its output transform; LeakyReLU(0) computes
    /// the same function but is not fused, so the layers run one by one. The outputs (training and inference), the
    /// parameter gradients and the input gradient must be bitwise the same, for an im2col and a Winograd convolution,
    /// with windows of zeros (ties) from the ReLU, and for 1 and 3 kernel threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(PoolsAfterRelu))]
    public void ConvReluPool_InOnePass_IsBitwiseTheLayerByLayerComputation(string pool, int height, int width)
    {
        // 20 × 20: the Winograd layer has rows of five tiles (one vector of eight, part-filled); 16 × 16 and 12 × 16: rows
        // of four, numbered without gaps, so the pooling takes sixteen tiles per vector where the hardware has them (a
        // group of 16, and one of 12).
        Network Build(bool fused) => new(9, Shape.Image(2, height, width),
            new Conv2D(2, 4, 3, padding: 1), fused ? new ReLU() : new LeakyReLU(0f), Pool(pool),
            new Conv2D(4, 6, 3, padding: 1), fused ? new ReLU() : new LeakyReLU(0f), Pool(pool),
            new Flatten(), new Dense(pool == "max 3 stride 1" ? 6 * (height - 4) * (width - 4) : 6 * (height / 4) * (width / 4), 3), new Softmax());
        const int batch = 11;
        float[] x = Rand.Floats(batch * 2 * height * width, 4, -1f, 1f);
        float[] outputGradient = Rand.Floats(batch * 3, 5);
        int saved = ComputeOptions.ThreadCount;
        bool savedWide = WinogradKernels.Wide;
        var results = new List<(int Threads, bool Fused, int[] Bits)>();
        try
        {
            foreach (int threads in new[] { 1, 3 })
            {
                ComputeOptions.ThreadCount = threads;
                WinogradKernels.Wide = threads == 1; // eight tiles per vector, then four (the pooling stores both ways)
                foreach (bool fused in new[] { true, false })
                {
                    Network network = Build(fused);
                    network.GoesBackThroughFusedLayer(2).Should().Be(fused);
                    network.GoesBackThroughFusedLayer(5).Should().Be(fused);
                    network.GoesForwardThroughFusedLayer(2).Should().BeFalse("the first convolution is an im2col one");
                    network.GoesForwardThroughFusedLayer(5).Should().Be(fused && pool == "max 2", "a Winograd tile is a 2 × 2 max window");
                    ((Conv2D)network.Layers[3]).UsesWinograd.Should().BeTrue("the second convolution is a Winograd one");
                    // Negative biases make many ReLU outputs 0, so windows of equal zeros (ties) go through the mask.
                    foreach (Parameter p in network.Parameters.Where(p => p.Name == "bias" && p.Length < 10)) p.Values.Fill(-0.2f);
                    Network.Workspace ws = network.WorkspaceFor(batch);
                    float[] trainingOutput = network.ForwardInto(ws, x, batch, training: true).ToArray();
                    foreach (Parameter p in network.Parameters) p.ZeroGradient();
                    outputGradient.CopyTo(ws.GradientA, 0); // ∂C/∂(the last Dense layer's output)
                    float[] inputGradient = network.Backpropagate(ws, x, network.Layers.Count - 2, batch, wantInputGradient: true).ToArray();
                    float[] predictions = new float[batch * 3];
                    network.PredictBatch(x, predictions, batch); // an inference workspace: no buffer for the fused ReLU
                    results.Add((threads, fused, network.Parameters.SelectMany(p => p.Gradient.ToArray()).Concat(inputGradient).Concat(trainingOutput).Concat(predictions)
                        .Select(BitConverter.SingleToInt32Bits).ToArray()));
                }
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
            WinogradKernels.Wide = savedWide;
        }
        results[0].Bits.Count(b => b != 0).Should().BeGreaterThan(results[0].Bits.Length / 4, "the gradients are not mostly zero");
        foreach (var r in results.Skip(1)) r.Bits.Should().Equal(results[0].Bits, $"{r.Threads} thread(s), fused {r.Fused}");
    }

    /// <summary>
    /// SHA-256 of the small CNN's weights and running statistics after two epochs (Adam, dropout, batch norm, max and
    /// average pooling, a Winograd and an im2col convolution) as computed on x64. CI runs this test natively and on
    /// linux-arm64 under qemu: both must give these bits. A change that is meant to alter the arithmetic (a new
    /// summation order, a new random stream) updates the pin in the same commit and says so.
    /// </summary>
    private const string SmallCnnWeightsSha256 = "E8598D8A42D807C0451A6696CEDCDB309244D976238ECE8F7687B9502805875D";

    [Fact]
    public void SmallCnn_TrainsToTheSameBitsOnX64AndArm64()
    {
        Dataset train = Images(256, 1);
        Network network = SmallCnn(7);
        var trainer = new Trainer(new CrossEntropyCost(), new Adam(0.01f), new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 3 });
        trainer.Fit(network, train, cancellationToken: TestContext.Current.CancellationToken);
        float[] values = network.Parameters.Concat<object>(network.State)
            .SelectMany(t => t is Parameter p ? p.Values.ToArray() : ((StateTensor)t).Values.ToArray()).ToArray();
        byte[] bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), BitConverter.SingleToInt32Bits(values[i]));
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes));
        hash.Should().Be(SmallCnnWeightsSha256, $"on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} the weights hash to {hash}");
    }

    [Theory]
    [MemberData(nameof(Cnns))]
    public void CnnTrainingStep_AllocatesNothingAfterTheFirst(string name)
    {
        Network network = Cnn(name, 1);
        var trainer = new Trainer(new CrossEntropyCost(), new Momentum(0.01f, 0.9f));
        float[] x = Rand.Floats(16 * 144, 3, 0f, 1f);
        float[] t = new float[16 * 4];
        for (int i = 0; i < 16; i++) t[i * 4 + i % 4] = 1f;
        for (int i = 0; i < 3; i++) trainer.TrainBatch(network, x, t, 16);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) trainer.TrainBatch(network, x, t, 16);
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void SavedCnn_LoadsWithItsRunningStatistics_AndPredictsBitwiseTheSame()
    {
        Network network = SmallCnn(5);
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), new TrainerOptions { Epochs = 1, BatchSize = 32 }).Fit(network, Images(128, 4), cancellationToken: TestContext.Current.CancellationToken);
        var norm = (BatchNorm)network.Layers[2];
        norm.RunningMean.ToArray().Should().NotEqual(new float[6], "training moved the running statistics");
        string path = Path.Combine(_dir, "cnn.safetensors");
        ModelFile.Save(network, path);

        Network loaded = ModelFile.Load(path);
        loaded.ToString().Should().Be(network.ToString());
        loaded.InputShape.Should().Be(Shape.Image(1, 12, 12));
        ((BatchNorm)loaded.Layers[2]).RunningVariance.ToArray().Should().Equal(norm.RunningVariance.ToArray());
        float[] x = Rand.Floats(10 * 144, 6, 0f, 1f);
        float[] expected = new float[40], actual = new float[40];
        network.PredictBatch(x, expected, 10);
        loaded.PredictBatch(x, actual, 10);
        actual.Should().Equal(expected);
    }
}

public class MaxPoolTieTests
{
    [Theory]
    [InlineData(4, 4)]
    [InlineData(6, 10)]   // five windows per row: two vector pairs and a scalar tail
    [InlineData(8, 14)]   // seven windows per row: three vector pairs and a tail
    [InlineData(4, 30)]   // fifteen: eight, four and two windows per vector where the hardware has the widths, and a tail
    public void MaxPool2x2Backward_SendsEachGradientToTheFirstMaximumInRowMajorOrder(int height, int width)
    {
        const int channels = 2, batch = 2;
        var pool = new MaxPool2D(2);
        pool.Connect(Shape.Image(channels, height, width));
        int inSize = channels * height * width, oh = height / 2, ow = width / 2, outSize = channels * oh * ow;
        var random = new NeuralDescent.Randomness.RandomGenerator(5);
        // Values from {0, 1, 2}: most windows hold ties, including several equal maxima.
        float[] x = Enumerable.Range(0, batch * inSize).Select(_ => (float)random.NextInt32(3)).ToArray();
        float[] dy = Enumerable.Range(0, batch * outSize).Select(_ => random.NextSingle() - 0.5f).ToArray();
        float[] y = new float[batch * outSize], dx = Enumerable.Repeat(99f, batch * inSize).ToArray();
        pool.Forward(x, y, batch, training: true);
        pool.Backward(x, y, dy, dx, batch);

        var expected = new float[batch * inSize];
        for (int s = 0; s < batch; s++)
        for (int c = 0; c < channels; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int plane = s * inSize + c * height * width;
            int[] window = [plane + 2 * oy * width + 2 * ox, plane + 2 * oy * width + 2 * ox + 1, plane + (2 * oy + 1) * width + 2 * ox, plane + (2 * oy + 1) * width + 2 * ox + 1];
            float max = window.Max(i => x[i]);
            int first = window.First(i => x[i] == max);
            expected[first] = dy[s * outSize + c * oh * ow + oy * ow + ox];
            y[s * outSize + c * oh * ow + oy * ow + ox].Should().Be(max);
        }
        dx.Should().Equal(expected);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(6, 10)]  // five windows per row: vectors of four and two, no tail
    [InlineData(8, 30)]  // fifteen: four, four, four, two and a tail
    public void MaxPool2x2BackwardFromWindowCodes_IsBitwiseTheBackwardWithTheReluMask(int height, int width)
    {
        // The code of a window (a, b / c, d) as the Winograd output transform writes it: the first value equal to the
        // maximum in row-major order (the last when none is: a NaN), plus PositiveBit when that value is positive.
        static byte WindowCode(float a, float b, float c, float d)
        {
            float max = MathF.Max(MathF.Max(a, c), MathF.Max(b, d));
            (int index, float taken) = a == max ? (0, a) : b == max ? (1, b) : c == max ? (2, c) : (3, d);
            return (byte)(index | (taken > 0f ? ConvolutionKernels.PositiveBit : 0));
        }

        const int channels = 3;
        var g = new WindowGeometry(channels, height, width, 2, 2, 0);
        int oh = height / 2, ow = width / 2;
        var random = new NeuralDescent.Randomness.RandomGenerator(17);
        // Values from {0, 0.5, 1} (ties, zeros: ReLU outputs), a few negative, −0, a NaN; gradients with a NaN and an infinity.
        float[] x = Enumerable.Range(0, channels * height * width).Select(_ => random.NextInt32(3) * 0.5f).ToArray();
        x[1] = -0.25f; x[2] = -0f; x[5] = float.NaN; x[width + 7] = -1f;
        float[] dy = Enumerable.Range(0, channels * oh * ow).Select(_ => random.NextSingle() - 0.5f).ToArray();
        dy[3] = float.NaN; dy[4] = float.PositiveInfinity;
        byte[] codes = new byte[channels * oh * ow];
        for (int c = 0; c < channels; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int o = (c * height + 2 * oy) * width + 2 * ox;
            codes[(c * oh + oy) * ow + ox] = WindowCode(x[o], x[o + 1], x[o + width], x[o + width + 1]);
        }
        float[] expected = new float[x.Length], actual = Enumerable.Repeat(99f, x.Length).ToArray();
        ConvolutionKernels.MaxPoolBackward(g, x, dy, expected, reluMask: true);
        ConvolutionKernels.MaxPool2x2BackwardFromCodes(g, codes, dy, actual);
        actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(14)] // seven windows per row: a vector of four, then the tail
    [InlineData(30)] // fifteen: eight per vector where the hardware has the width, then four, then the tail
    public void MaxPool2x2Forward_IsTheWindowMaximum_WithSignedZerosAndNaN(int w)
    {
        // 2 × 18 × w: negative values, ±0 and a NaN.
        var pool = new MaxPool2D(2);
        pool.Connect(Shape.Image(2, 18, w));
        int ow = w / 2;
        var random = new NeuralDescent.Randomness.RandomGenerator(9);
        float[] x = Enumerable.Range(0, 2 * 18 * w).Select(_ => random.NextSingle() - 0.5f).ToArray();
        x[0] = -0f; x[1] = 0f; x[w] = -0f; x[w + 1] = -0f; // window (0, 0): +0 must win
        x[w + 2] = -0f; x[w + 3] = -0f; x[2] = -0f; x[3] = -0f; // window (0, 1): all −0
        x[4] = float.NaN;                                  // window (0, 2): NaN propagates
        var y = new float[2 * 9 * ow];
        pool.Forward(x, y, 1, training: false);
        for (int c = 0; c < 2; c++)
        for (int oy = 0; oy < 9; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int o = c * 18 * w + 2 * oy * w + 2 * ox;
            float expected = MathF.Max(MathF.Max(x[o], x[o + 1]), MathF.Max(x[o + w], x[o + w + 1]));
            BitConverter.SingleToInt32Bits(y[c * 9 * ow + oy * ow + ox]).Should().Be(BitConverter.SingleToInt32Bits(expected), $"channel {c}, window ({oy}, {ox})");
        }
        float.IsNaN(y[2]).Should().BeTrue();
        BitConverter.SingleToInt32Bits(y[0]).Should().Be(0);
        BitConverter.SingleToInt32Bits(y[1]).Should().Be(BitConverter.SingleToInt32Bits(-0f));
    }
}
