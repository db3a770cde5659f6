using NeuralDescent.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Kernels;

[Collection(SimdSwitchCollection.Name)]
public class ElementwiseKernelTests
{
    public static IEnumerable<object[]> Lengths() => new[] { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 255, 256, 257, 300 }.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BackwardKernels_MatchScalarFormulas(int length)
    {
        float[] y = Rand.Floats(length, 1, 0f, 1f), dy = Rand.Floats(length, 2), x = Rand.Floats(length, 3);
        var dx = new float[length];

        ElementwiseKernels.SigmoidBackward(y, dy, dx);
        for (int i = 0; i < length; i++) dx[i].Should().BeApproximately(dy[i] * y[i] * (1 - y[i]), 1e-6f);

        ElementwiseKernels.TanhBackward(y, dy, dx);
        for (int i = 0; i < length; i++) dx[i].Should().BeApproximately(dy[i] * (1 - y[i] * y[i]), 1e-6f);

        ElementwiseKernels.LeakyReluForward(x, dx, 0.1f);
        for (int i = 0; i < length; i++) dx[i].Should().Be(x[i] > 0 ? x[i] : 0.1f * x[i]);

        ElementwiseKernels.LeakyReluBackward(x, dy, dx, 0.1f);
        for (int i = 0; i < length; i++) dx[i].Should().Be(x[i] > 0 ? dy[i] : 0.1f * dy[i]);
    }

    [Fact]
    public void Softmax_OfHugeLogits_IsFiniteAndExact()
    {
        float[] logits = [1000f, -1000f, 999f, 1000f, 1000f, -1000f];
        var y = new float[6];
        ElementwiseKernels.SoftmaxForward(logits, y, rows: 2, width: 3);
        y.Should().OnlyContain(v => float.IsFinite(v));
        y[0].Should().BeApproximately(1f / (1f + MathF.Exp(-1f)), 1e-6f);
        y[1].Should().Be(0f);
        y[3].Should().BeApproximately(0.5f, 1e-6f);
        y[4].Should().BeApproximately(0.5f, 1e-6f);
    }

    [Theory]
    [InlineData(7, 37, true)]     // one thread: below the split
    [InlineData(128, 512, true)]  // W3's hidden layer: columns split across threads
    [InlineData(100, 333, true)]  // a ragged last panel
    [InlineData(128, 512, false)] // bias gradient only
    public void ReluBackwardAndColumnSums_IsLeakyReluBackwardThenColumnSums_OnAnyThreadCount(int rows, int width, bool relu)
    {
        float[] output = Rand.Floats(rows * width, 21), dy = Rand.Floats(rows * width, 22), start = Rand.Floats(width, 23);
        for (int i = 0; i < output.Length; i += 7) output[i] = i % 2 == 0 ? 0f : -MathF.Abs(output[i]); // zeros and negatives are masked
        output[1] = float.NaN;
        dy[2] = -0f;
        float[] expectedGradient = relu ? new float[dy.Length] : dy;
        if (relu) ElementwiseKernels.LeakyReluBackward(output, dy, expectedGradient, 0f);
        float[] expectedSums = (float[])start.Clone();
        ElementwiseKernels.AccumulateColumnSums(expectedGradient, expectedSums, rows, width);
        int saved = ComputeOptions.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                ComputeOptions.ThreadCount = threads;
                float[] gradient = relu ? Rand.Floats(dy.Length, 24) : [], sums = (float[])start.Clone();
                ElementwiseKernels.ReluBackwardAndColumnSums(relu ? output : default, dy, gradient, sums, rows, width);
                if (relu) gradient.Select(BitConverter.SingleToInt32Bits).Should().Equal(expectedGradient.Select(BitConverter.SingleToInt32Bits), $"gradient, {threads} thread(s)");
                sums.Select(BitConverter.SingleToInt32Bits).Should().Equal(expectedSums.Select(BitConverter.SingleToInt32Bits), $"column sums, {threads} thread(s)");
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Fact]
    public void ReluBackwardAndColumnSums_RejectsShortSpans()
    {
        Action act = () => ElementwiseKernels.ReluBackwardAndColumnSums(new float[10], new float[12], new float[12], new float[4], 3, 4);
        act.Should().Throw<ArgumentException>().WithMessage("*3×4*ReLU output 10*");
    }

    [Fact]
    public void Softmax_RowsSumToOne()
    {
        float[] logits = Rand.Floats(10 * 37, 4, -20, 20);
        var y = new float[logits.Length];
        ElementwiseKernels.SoftmaxForward(logits, y, 10, 37);
        for (int r = 0; r < 10; r++) y.AsSpan(r * 37, 37).ToArray().Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Softmax_MatchesDoubleFormula_ForEveryWidth_InPlaceToo(bool simd)
    {
        bool saved = MatrixKernels.SimdEnabled;
        MatrixKernels.SimdEnabled = simd;
        try
        {
            for (int width = 1; width <= 40; width++)
            {
                const int rows = 13;
                float[] logits = Rand.Floats(rows * width, (ulong)width, -30, 30);
                logits[width / 2] = 900f; // one dominant logit in the first row
                var y = new float[logits.Length];
                ElementwiseKernels.SoftmaxForward(logits, y, rows, width);
                float[] inPlace = (float[])logits.Clone();
                ElementwiseKernels.SoftmaxForward(inPlace, inPlace, rows, width);
                inPlace.Should().Equal(y, $"in-place softmax must match at width {width}");
                for (int r = 0; r < rows; r++)
                {
                    double max = logits.Skip(r * width).Take(width).Max();
                    double sum = logits.Skip(r * width).Take(width).Sum(v => Math.Exp(v - max));
                    for (int j = 0; j < width; j++)
                    {
                        double expected = Math.Exp(logits[r * width + j] - max) / sum;
                        y[r * width + j].Should().BeApproximately((float)expected, 2e-6f, $"row {r}, column {j} at width {width}");
                    }
                }
            }
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScaledDifference_HasTheBitsOfASubtractionThenAScaling_InPlaceToo(bool simd)
    {
        bool saved = MatrixKernels.SimdEnabled;
        MatrixKernels.SimdEnabled = simd;
        try
        {
            foreach (object[] row in Lengths())
            {
                int n = (int)row[0];
                float[] y = Rand.Floats(n, (ulong)n + 7, 0f, 1f), t = Rand.Floats(n, (ulong)n + 8, -1f, 1f);
                const float scale = 1f / 64;
                var expected = new float[n];
                System.Numerics.Tensors.TensorPrimitives.Subtract(y, t, expected);
                System.Numerics.Tensors.TensorPrimitives.Multiply(expected, scale, expected);
                var d = new float[n];
                ElementwiseKernels.ScaledDifference(y, t, scale, d);
                d.Should().Equal(expected, $"n = {n}");
                ElementwiseKernels.ScaledDifference(y, t, scale, y);
                y.Should().Equal(expected, $"in place, n = {n}");
            }
            FluentActions.Invoking(() => ElementwiseKernels.ScaledDifference(new float[3], new float[3], 1f, new float[2])).Should().Throw<ArgumentException>();
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Fact]
    public void LogSumExp_OfShortAndLongRows_MatchesDoubleFormula_AndPropagatesNaN()
    {
        foreach (int n in new[] { 1, 2, 10, ReductionKernels.ShortRow, ReductionKernels.ShortRow + 1, 200 })
        {
            float[] x = Rand.Floats(n, (ulong)n, -40f, 40f);
            double max = x.Max(v => (double)v);
            double expected = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
            ElementwiseKernels.LogSumExp(x).Should().BeApproximately(expected, 1e-9 * Math.Max(1, Math.Abs(expected)), $"n = {n}");
            x[n / 2] = float.NaN;
            double.IsNaN(ElementwiseKernels.LogSumExp(x)).Should().BeTrue($"n = {n}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScaleBytes_HasTheBitsOfAConversionThenAScaling(bool simd)
    {
        bool saved = MatrixKernels.SimdEnabled;
        MatrixKernels.SimdEnabled = simd;
        try
        {
            var random = new NeuralDescent.Randomness.RandomGenerator(5);
            foreach (int n in new[] { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 784, 785 })
            {
                byte[] pixels = Enumerable.Range(0, n).Select(i => i % 7 == 0 ? (byte)255 : (byte)random.NextInt32(256)).ToArray();
                const float scale = 1f / 255;
                var expected = new float[n];
                System.Numerics.Tensors.TensorPrimitives.ConvertTruncating<byte, float>(pixels, expected);
                System.Numerics.Tensors.TensorPrimitives.Multiply(expected, scale, expected);
                var d = Enumerable.Repeat(-7f, n + 3).ToArray();
                ElementwiseKernels.ScaleBytes(pixels, scale, d);
                d.AsSpan(0, n).ToArray().Should().Equal(expected, $"n = {n}");
                d.AsSpan(n).ToArray().Should().Equal([-7f, -7f, -7f], "nothing past the row is written");
            }
            FluentActions.Invoking(() => ElementwiseKernels.ScaleBytes(new byte[5], 1f, new float[4])).Should().Throw<ArgumentException>().WithMessage("*4 values*5 source bytes*");
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Fact]
    public void Sigmoid_HasTheBitsOfTensorPrimitivesSigmoid_ForEveryLength_InPlaceToo()
    {
        var random = new NeuralDescent.Randomness.RandomGenerator(17);
        float[] special = [0f, -0f, 1e-30f, -88f, 88f, 104f, -104f, 1e6f, -1e6f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        ElementwiseKernels.Sigmoid([], []); // the library call refuses empty spans; an empty batch is nothing to do
        for (int n = 1; n <= 300; n++)
        {
            float[] x = Enumerable.Range(0, n).Select(i => i % 9 == 0 ? special[random.NextInt32(special.Length)] : (random.NextSingle() - 0.5f) * 40f).ToArray();
            var expected = new float[n];
            System.Numerics.Tensors.TensorPrimitives.Sigmoid(x, expected);
            var y = new float[n];
            ElementwiseKernels.Sigmoid(x, y);
            y.Should().Equal(expected, $"n = {n}");
            ElementwiseKernels.Sigmoid(x, x);
            x.Should().Equal(expected, $"in place, n = {n}");
        }
    }
}
