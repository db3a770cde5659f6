using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using NeuralDescent.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Kernels;

/// <summary>
/// Which kernels run on this CPU, and the exact summation order each vector kernel promises. The order tests define
/// the sums independently of any vector width, so passing them on x64 and on ARM64 means both give bitwise-equal results.
/// </summary>
[Collection(SimdSwitchCollection.Name)]
public class KernelChoiceTests
{
    [Fact]
    public void VectorKernels_AreChosen_OnX64AndArm64()
    {
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.Arm64:
                MatrixKernels.SimdEnabled.Should().BeTrue("ARM64 has AdvSimd, so the Vector128 kernels must run, not the scalar reference");
                MatrixKernels.KernelSet.Should().Be("AdvSimd (Vector128)");
                break;
            case Architecture.X64 when Avx2.IsSupported && Fma.IsSupported:
                MatrixKernels.SimdEnabled.Should().BeTrue();
                MatrixKernels.KernelSet.Should().BeOneOf("AVX2+FMA", "AVX-512");
                break;
            default:
                MatrixKernels.KernelSet.Should().NotBeNullOrEmpty();
                break;
        }
    }

    [Fact]
    public void Gemm_SumsEachElementAsOneFusedChainOverK()
    {
        // Within one K block every tile (6×16 Vector256, 12×32/6×32 Vector512, 6×16 Vector128) computes
        // c = fma(a[p], b[p], c) for p = 0, 1, …, k−1 from c = 0. The scalar reference (double sums) would not match.
        const int m = 31, n = 45, k = 64;
        float[] a = Rand.Floats(m * k, 31), b = Rand.Floats(k * n, 32), c = new float[m * n];
        MatrixKernels.Gemm(false, false, m, n, k, a, k, b, n, c, n, accumulate: false);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float expected = 0f;
            for (int p = 0; p < k; p++) expected = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], expected);
            c[i * n + j].Should().Be(expected, $"C[{i}, {j}] is one fused chain over k");
        }
    }

    [Theory]
    [InlineData(1, 10, 37)]   // a single row against a skinny output: dot-product tiles
    [InlineData(7, 13, 64)]
    [InlineData(2, 5, 21)]    // two eight-lane steps and a tail of five
    [InlineData(1000, 10, 130)] // a tall A: several blocks of rows, split across threads
    public void GemmDotProducts_SumInEightLanesThenPairwise(int m, int n, int k)
    {
        float[] a = Rand.Floats(m * k, 41), b = Rand.Floats(n * k, 42), c = new float[m * n];
        MatrixKernels.Gemm(false, true, m, n, k, a, k, b, k, c, n, accumulate: false);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[i * n + j].Should().Be(EightLaneDot(a.AsSpan(i * k, k), b.AsSpan(j * k, k), steps: 1), $"C[{i}, {j}]");
    }

    [Theory]
    [InlineData(5, 50)]
    [InlineData(8, 784)]
    [InlineData(3, 15)]
    [InlineData(6, 200)]
    [InlineData(9, 130)]
    public void Gemv_SumsOneRowInEightEightLaneChainsThenPairwise(int n, int k)
    {
        float[] w = Rand.Floats(n * k, 51), x = Rand.Floats(k, 52), bias = Rand.Floats(n, 53), y = new float[n];
        bool saved = MatrixKernels.Vector512Enabled;
        try
        {
            // The Vector512 kernel (four 16-lane chains per row, halves folded) must give the same sums.
            foreach (bool wide in new[] { false, true })
            {
                MatrixKernels.Vector512Enabled = wide;
                MatrixKernels.Gemv(n, k, w, x, bias, y);
                for (int i = 0; i < n; i++) y[i].Should().Be(GemvRowDot(w.AsSpan(i * k, k), x) + bias[i], $"y[{i}], Vector512 {(wide ? "on" : "off")}");
            }
        }
        finally
        {
            MatrixKernels.Vector512Enabled = saved;
        }
    }

    /// <summary>
    /// The GEMV's order for one row: chain c of eight lanes takes values 8c..8c+7 of each block of 64 (fused), blocks
    /// of 16 after the last 64 go to chains 0 and 1, the chains are added lane by lane as
    /// ((c0 + c2) + (c4 + c6)) + ((c1 + c3) + (c5 + c7)), reduced as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)), and the
    /// products left over are added one by one.
    /// </summary>
    private static float GemvRowDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var chains = new float[8, 8];
        int p = 0;
        for (; p + 64 <= a.Length; p += 64)
            for (int c = 0; c < 8; c++)
                for (int l = 0; l < 8; l++) chains[c, l] = MathF.FusedMultiplyAdd(a[p + 8 * c + l], b[p + 8 * c + l], chains[c, l]);
        for (; p + 16 <= a.Length; p += 16)
            for (int c = 0; c < 2; c++)
                for (int l = 0; l < 8; l++) chains[c, l] = MathF.FusedMultiplyAdd(a[p + 8 * c + l], b[p + 8 * c + l], chains[c, l]);
        var sum = new float[8];
        for (int l = 0; l < 8; l++)
            sum[l] = ((chains[0, l] + chains[2, l]) + (chains[4, l] + chains[6, l])) + ((chains[1, l] + chains[3, l]) + (chains[5, l] + chains[7, l]));
        float total = ((sum[0] + sum[1]) + (sum[2] + sum[3])) + ((sum[4] + sum[5]) + (sum[6] + sum[7]));
        float tail = 0f;
        for (; p < a.Length; p++) tail += a[p] * b[p];
        return total + tail;
    }

    /// <summary>
    /// The dot-product order of the vector kernels: <paramref name="steps"/> accumulators of eight lanes take
    /// consecutive blocks of eight products (fused), are added lane by lane, reduced as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)),
    /// and the products left over are added one by one.
    /// </summary>
    private static float EightLaneDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int steps)
    {
        var lanes = new float[steps, 8];
        int p = 0, block = 8 * steps;
        for (; p + block <= a.Length; p += block)
            for (int s = 0; s < steps; s++)
                for (int l = 0; l < 8; l++) lanes[s, l] = MathF.FusedMultiplyAdd(a[p + 8 * s + l], b[p + 8 * s + l], lanes[s, l]);
        var sum = new float[8];
        for (int l = 0; l < 8; l++)
        {
            sum[l] = lanes[0, l];
            for (int s = 1; s < steps; s++) sum[l] += lanes[s, l];
        }
        float total = ((sum[0] + sum[1]) + (sum[2] + sum[3])) + ((sum[4] + sum[5]) + (sum[6] + sum[7]));
        float tail = 0f;
        for (; p < a.Length; p++) tail += a[p] * b[p];
        return total + tail;
    }
}
