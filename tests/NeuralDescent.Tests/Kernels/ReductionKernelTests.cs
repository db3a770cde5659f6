using NeuralDescent.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Kernels;

public class ReductionKernelTests
{
    [Fact]
    public void Reductions_MatchDoubleSums_ForEveryLengthUpTo300()
    {
        for (int n = 0; n <= 300; n++)
        {
            float[] x = Rand.Floats(n, (ulong)n + 1, -2f, 3f), y = Rand.Floats(n, (ulong)n + 500);
            const float mean = 0.37f;
            double sum = x.Sum(v => (double)v), squares = x.Sum(v => ((double)v - mean) * ((double)v - mean));
            double dot = x.Select((v, i) => ((double)v - mean) * y[i]).Sum();
            ReductionKernels.Sum(x).Should().BeApproximately((float)sum, 1e-5f * (1 + n), $"n = {n}");
            ReductionKernels.SumOfSquaredDeviations(x, mean).Should().BeApproximately((float)squares, 1e-5f * (1 + n), $"n = {n}");
            ReductionKernels.CenteredDot(x, mean, y).Should().BeApproximately((float)dot, 1e-5f * (1 + n), $"n = {n}");

            var z = new float[n];
            ReductionKernels.Affine(x, 1.5f, y, -0.25f, 2f, z);
            for (int i = 0; i < n; i++) z[i].Should().BeApproximately(1.5f * x[i] - 0.25f * y[i] + 2f, 1e-5f);
            ReductionKernels.Affine(x, -2f, default, 0f, 0.5f, z);
            for (int i = 0; i < n; i++) z[i].Should().BeApproximately(-2f * x[i] + 0.5f, 1e-5f);
        }
    }

    [Fact]
    public void Sum_IsTheSameWhereverTheSpanStarts()
    {
        // The lanes a value lands in depend only on its index within the span, so a copy at another address sums alike.
        float[] x = Rand.Floats(1000, 3);
        float[] shifted = new float[1003];
        x.CopyTo(shifted, 3);
        ReductionKernels.Sum(shifted.AsSpan(3)).Should().Be(ReductionKernels.Sum(x));
    }

    [Fact]
    public void IndexOfMax_AgreesWithTensorPrimitives_OnTiesSignedZerosInfinitiesAndNaNs()
    {
        // Values drawn from a small set so that rows have ties, both zeros, infinities and NaNs in every position.
        float[] pool = [0f, -0f, 1f, -1f, 2.5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.MaxValue, -float.MaxValue];
        var random = new NeuralDescent.Randomness.RandomGenerator(11);
        int checkedRows = 0;
        for (int n = 0; n <= ReductionKernels.ShortRow + 6; n++)
        {
            for (int round = 0; round < 400; round++)
            {
                var x = new float[n];
                bool fromPool = round % 2 == 0;
                for (int i = 0; i < n; i++) x[i] = fromPool ? pool[random.NextInt32(pool.Length)] : random.NextSingle() * 4f - 2f;
                if (fromPool && round % 4 == 0)
                {
                    // Mostly NaN-free rows, so the comparisons (not only the NaN exit) decide.
                    for (int i = 0; i < n; i++) if (float.IsNaN(x[i])) x[i] = -0f;
                }
                ReductionKernels.IndexOfMax(x).Should().Be(System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(x), $"row [{string.Join(", ", x)}]");
                checkedRows++;
            }
        }
        checkedRows.Should().Be((ReductionKernels.ShortRow + 7) * 400);
        ReductionKernels.IndexOfMax([-0f, 0f]).Should().Be(1, "+0 counts as larger than −0");
        ReductionKernels.IndexOfMax([3f, 3f, 1f]).Should().Be(0, "a tie goes to the first");
        ReductionKernels.IndexOfMax([1f, float.NaN, 5f, float.NaN]).Should().Be(1, "the first NaN wins");
    }
}
