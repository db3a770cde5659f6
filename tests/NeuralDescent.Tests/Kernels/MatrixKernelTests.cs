using NeuralDescent.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Kernels;

[Collection(SimdSwitchCollection.Name)]
public class MatrixKernelTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        int[] sizes = [0, 1, 2, 5, 6, 7, 8, 13, 15, 16, 17, 31, 33, 71, 72, 73, 97];
        var g = new NeuralDescent.Randomness.RandomGenerator(1);
        foreach (int m in sizes)
        {
            // A sample of (n, k) per m keeps the sweep fast while covering tails of every tile and block.
            for (int t = 0; t < 4; t++) data.Add(m, sizes[g.NextInt32(sizes.Length)], sizes[g.NextInt32(sizes.Length)]);
        }
        data.Add(64, 128, 784);
        data.Add(10, 30, 784);
        data.Add(128, 10, 512);
        data.Add(3, 785, 257);
        data.Add(150, 40, 300);
        data.Add(1, 300, 513);
        data.Add(25, 70, 321);      // K just past one block of KcMax = 320
        data.Add(13, 48, 641);
        data.Add(1030, 17, 1100);   // tall: K in blocks of up to 1024
        data.Add(1100, 33, 784);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_AllLayouts_MatchReference(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (bool accumulate in new[] { false, true })
            CompareWithReference(ta, tb, m, n, k, accumulate, pad: 3);
    }

    /// <summary>Every size from 0 to 300 (and 784, 785) in each dimension in turn, the other two small and awkward.</summary>
    public static TheoryData<char> SweptDimensions() => new() { 'm', 'n', 'k' };

    [Theory]
    [MemberData(nameof(SweptDimensions))]
    public void Gemm_SweepOneDimension_0To300_MatchesReference(char dimension)
    {
        foreach (int size in Enumerable.Range(0, 301).Append(784).Append(785))
        {
            (int m, int n, int k) = dimension switch
            {
                'm' => (size, 17, 12),
                'n' => (7, size, 33),
                _ => (7, 17, size),
            };
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                CompareWithReference(ta, tb, m, n, k, accumulate: size % 2 == 1, pad: size % 3);
        }
    }

    [Fact]
    public void Gemm_ResultDoesNotDependOnTheThreadCount()
    {
        int saved = ComputeOptions.ThreadCount;
        try
        {
            float[] Run(int threads, bool ta)
            {
                ComputeOptions.ThreadCount = threads;
                const int m = 130, n = 150, k = 300;
                float[] a = Rand.Floats(m * k, 1), b = Rand.Floats(k * n, 2), c = new float[m * n];
                MatrixKernels.Gemm(ta, false, m, n, k, a, ta ? m : k, b, n, c, n, accumulate: false);
                return c;
            }
            foreach (bool ta in new[] { false, true })
            {
                float[] one = Run(1, ta), two = Run(2, ta), three = Run(3, ta);
                two.Select(BitConverter.SingleToInt32Bits).Should().Equal(one.Select(BitConverter.SingleToInt32Bits));
                three.Select(BitConverter.SingleToInt32Bits).Should().Equal(one.Select(BitConverter.SingleToInt32Bits));
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(10, 600, 300)]  // few rows: dot-product tiles split by columns of C
    [InlineData(300, 10, 300)]  // skinny output: split by rows
    [InlineData(13, 1003, 333)] // odd everything, columns left over after groups of four
    public void GemmDotProductPath_ResultDoesNotDependOnTheThreadCount(int m, int n, int k)
    {
        int saved = ComputeOptions.ThreadCount;
        try
        {
            float[] a = Rand.Floats(m * k, 5), b = Rand.Floats(n * k, 6), bias = Rand.Floats(n, 7);
            float[] Run(int threads)
            {
                ComputeOptions.ThreadCount = threads;
                float[] c = Rand.Floats(m * n, 8);
                MatrixKernels.Gemm(false, true, m, n, k, a, k, b, k, c, n, accumulate: true, bias, relu: true);
                return c;
            }
            float[] one = Run(1);
            foreach (int threads in new[] { 2, 3, 5 })
                Run(threads).Select(BitConverter.SingleToInt32Bits).Should().Equal(one.Select(BitConverter.SingleToInt32Bits), $"{threads} threads");
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Fact]
    public void Gemm_WithSimdForcedOff_MatchesReference()
    {
        bool saved = MatrixKernels.SimdEnabled;
        try
        {
            MatrixKernels.SimdEnabled = false;
            CompareWithReference(false, true, 17, 33, 65, accumulate: true, pad: 0);
            CompareWithReference(true, false, 9, 20, 7, accumulate: false, pad: 2);
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Fact]
    public void Gemm_Vector512Path_MatchesReference()
    {
        // Forced on where AVX-512 is absent, the Vector512 kernel runs in software: slow, but its arithmetic is checked.
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            MatrixKernels.Vector512Enabled = true;
            // (24, 70, 36): B's rows read in place for two column pairs (row stride n + pad), six columns packed.
            // (28, 40, 20) and (32, 64, 36): four and eight rows after the 12-row pairs, read in place four at a time.
            foreach ((int m, int n, int k) in new[] { (12, 16, 4), (13, 33, 7), (30, 20, 260), (25, 17, 16), (19, 48, 9), (40, 70, 33), (24, 70, 36), (28, 40, 20), (32, 64, 36) })
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                CompareWithReference(ta, tb, m, n, k, accumulate: k % 2 == 0, pad: 1);
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    [Fact]
    public void Gemm_Vector512AndVector256Kernels_GiveBitwiseEqualResults()
    {
        // The Vector512 kernel is chosen by a speed probe at start-up; the choice must never change a result.
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            // (71, 48, 128) and (83, 50, 64): A read in place by 12-row pairs, then a full 6-row panel and a ragged one packed,
            // against paired, single and ragged B panels; 83 rows take two M blocks. (64, 128, 784) and (80, 48, 16) leave
            // four rows, and eight in a second M block, that are read in place four at a time.
            foreach ((int m, int n, int k) in new[] { (12, 16, 4), (30, 33, 260), (64, 128, 784), (1030, 20, 36), (19, 48, 9), (40, 70, 33), (71, 48, 128), (83, 50, 64), (80, 48, 16) })
            foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                float[] a = Rand.Floats(m * k, 21), b = Rand.Floats(k * n, 22), bias = Rand.Floats(n, 23);
                float[] wide = Rand.Floats(m * n, 24), narrow = (float[])wide.Clone();
                int lda = ta ? m : k, ldb = tb ? k : n;
                MatrixKernels.Vector512Enabled = true;
                MatrixKernels.Gemm(ta, tb, m, n, k, a, lda, b, ldb, wide, n, accumulate: true, bias, relu: true);
                MatrixKernels.Vector512Enabled = false;
                MatrixKernels.Gemm(ta, tb, m, n, k, a, lda, b, ldb, narrow, n, accumulate: true, bias, relu: true);
                narrow.Should().Equal(wide, $"{(ta ? "Aᵀ" : "A")}·{(tb ? "Bᵀ" : "B")} at {m}×{n}×{k}");
            }
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    [Fact]
    public unsafe void MultiplyPrepacked_EqualsGemmBitwise_WithEitherKernel()
    {
        // Winograd's products: A packed once into 6-row panels, B written by the caller in 16-column panels.
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            foreach (bool wide in new[] { true, false })
            foreach ((int m, int n, int k) in new[] { (64, 144, 32), (13, 40, 7), (32, 208, 64), (5, 16, 4) })
            {
                MatrixKernels.Vector512Enabled = wide;
                float[] a = Rand.Floats(m * k, 31), b = Rand.Floats(k * n, 32);
                var expected = new float[m * n];
                MatrixKernels.Gemm(false, false, m, n, k, a, k, b, n, expected, n, accumulate: false);
                int kcp = (k + 3) & ~3;
                var packedA = new float[MatrixKernels.PackedASize(m, k)];
                var packedB = new float[MatrixKernels.PackedBSize(n, k)];
                for (int p = 0; p < k; p++)
                    for (int j = 0; j < n; j++) packedB[(j / 16) * 16 * kcp + p * 16 + j % 16] = b[p * n + j];
                var actual = Enumerable.Repeat(42f, m * (n + 3)).ToArray();
                fixed (float* pa = a, ppa = packedA, ppb = packedB, pc = actual)
                {
                    MatrixKernels.PackAPanels(pa, k, m, k, ppa);
                    MatrixKernels.MultiplyPrepacked(m, n, k, ppa, ppb, pc, n + 3);
                }
                for (int i = 0; i < m; i++)
                {
                    actual.AsSpan(i * (n + 3), n).ToArray().Should().Equal(expected.AsSpan(i * n, n).ToArray(), $"row {i} of {m}×{n}×{k}, Vector512 {wide}");
                    actual.AsSpan(i * (n + 3) + n, 3).ToArray().Should().OnlyContain(v => v == 42f);
                }
            }
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    [Fact]
    public void Gemm_LeavesPaddingOutsideTheMatrixUntouched()
    {
        const int m = 7, n = 19, k = 11, ldc = 24;
        float[] a = Rand.Floats(m * k, 1), b = Rand.Floats(k * n, 2);
        float[] c = Enumerable.Repeat(42f, m * ldc).ToArray();
        MatrixKernels.Gemm(false, false, m, n, k, a, k, b, n, c, ldc, accumulate: false);
        for (int i = 0; i < m; i++)
            c.AsSpan(i * ldc + n, ldc - n).ToArray().Should().OnlyContain(v => v == 42f);
    }

    [Fact]
    public void Gemm_TooShortSpan_ThrowsNamingTheOperand()
    {
        FluentActions.Invoking(() => MatrixKernels.Gemm(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4, false))
            .Should().Throw<ArgumentException>().WithMessage("A (4×4, lda=4) needs 16 elements but has 15.");
    }

    [Fact]
    public void Gemv_ResultDoesNotDependOnTheThreadCountOrWhereXStarts()
    {
        const int n = 300, k = 785; // n·k above the threshold for two threads
        float[] w = Rand.Floats(n * k, 6), x = Rand.Floats(k, 7), bias = Rand.Floats(n, 8);
        var buffer = new float[k + 16];
        int saved = ComputeOptions.ThreadCount;
        try
        {
            ComputeOptions.ThreadCount = 1;
            float[] expected = new float[n];
            MatrixKernels.Gemv(n, k, w, x, bias, expected);
            foreach (int threads in new[] { 1, 2, 3 })
            {
                ComputeOptions.ThreadCount = threads;
                // x at every offset within a cache line: a misaligned x is copied to an aligned buffer first.
                for (int offset = 0; offset < 16; offset++)
                {
                    x.CopyTo(buffer, offset);
                    float[] y = new float[n];
                    MatrixKernels.Gemv(n, k, w, buffer.AsSpan(offset, k), bias, y);
                    y.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits), $"{threads} thread(s), x at offset {offset}");
                }
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 784)]
    [InlineData(128, 784)]
    [InlineData(7, 9)]
    [InlineData(3, 0)]
    [InlineData(10, 128)]
    [InlineData(5, 33)]
    [InlineData(131, 785)]
    [InlineData(300, 785)] // above the threshold for two threads
    public void Gemv_MatchesReference(int n, int k)
    {
        float[] w = Rand.Floats(n * k, 3), x = Rand.Floats(k, 4), bias = Rand.Floats(n, 5);
        float[] fast = new float[n], reference = new float[n];
        MatrixKernels.Gemv(n, k, w, x, bias, fast);
        MatrixKernels.GemvReference(n, k, w, x, bias, reference);
        for (int i = 0; i < n; i++) fast[i].Should().BeApproximately(reference[i], Tolerance(k));
    }

    private static void CompareWithReference(bool ta, bool tb, int m, int n, int k, bool accumulate, int pad)
    {
        (int aRows, int aCols) = ta ? (k, m) : (m, k);
        (int bRows, int bCols) = tb ? (n, k) : (k, n);
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = Rand.Floats(Math.Max(1, aRows * lda), (ulong)(m * 131 + k));
        float[] b = Rand.Floats(Math.Max(1, bRows * ldb), (ulong)(n * 17 + k + 1));
        float[] c0 = Rand.Floats(Math.Max(1, m * ldc), 99);
        float[] fast = (float[])c0.Clone(), reference = (float[])c0.Clone();
        // Every other shape also adds a bias row (the fused epilogue).
        float[] bias = (m + n + k) % 2 == 0 ? Rand.Floats(n, 77) : [];
        // Every third shape also applies the fused ReLU.
        bool relu = (m + n + k) % 3 == 0;
        MatrixKernels.Gemm(ta, tb, m, n, k, a, lda, b, ldb, fast, ldc, accumulate, bias, relu);
        MatrixKernels.GemmReference(ta, tb, m, n, k, a, lda, b, ldb, reference, ldc, accumulate, bias, relu);
        float tolerance = Tolerance(k);
        for (int i = 0; i < fast.Length; i++)
        {
            if (Math.Abs(fast[i] - reference[i]) > tolerance)
                Assert.Fail($"ta={ta} tb={tb} m={m} n={n} k={k} acc={accumulate}: element {i} is {fast[i]}, reference {reference[i]}.");
        }
    }

    // Inputs are in [-1, 1]: a float dot product of length k errs by at most about k·2⁻²⁴·Σ|aᵢbᵢ| ≤ k²·6e-8 in the worst case;
    // rounding errors add like a random walk in practice, so √k·k·6e-8 with a floor is a generous but meaningful bound.
    private static float Tolerance(int k) => 1e-5f + 4e-7f * k * MathF.Sqrt(Math.Max(k, 1));
}

/// <summary>
/// Tests that change process-wide kernel settings (the SIMD switches, <c>ComputeOptions.ThreadCount</c> and
/// <c>WorkerSpin</c>) or count the bytes a step allocates: they run alone, after the parallel tests, so neither disturbs
/// the other (another test raising the thread count makes the worker pool allocate a worker mid-measurement).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimdSwitchCollection
{
    public const string Name = "Global kernel settings and allocation counts";
}
