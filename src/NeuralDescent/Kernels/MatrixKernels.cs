using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NeuralDescent.Kernels;

/// <summary>
/// Dense matrix products over spans. All matrices are row-major; a matrix X with leading dimension ldx
/// has element (i, j) at <c>x[i·ldx + j]</c>.
/// </summary>
/// <remarks>
/// <para><c>Gemm</c> computes <c>C ← (accumulate ? C : 0) + op(A)·op(B)</c> with C of shape m×n,
/// op(A) of shape m×k and op(B) of shape k×n, where op(X) = X or Xᵀ as requested. The three products that
/// forward and backward passes need are A·Bᵀ (Dense forward: X·Wᵀ), A·B (input gradient: dY·W) and
/// Aᵀ·B (weight gradient: dYᵀ·X).</para>
/// <para>The fast path is a BLIS-style loop nest (K blocks of ≤ <see cref="KcMax"/>, M blocks of
/// <see cref="Mc"/>, 16-column B panels, 6×16 register tile) over packed copies of A and B, with a
/// <c>Vector256</c> FMA micro-kernel (<c>Vector512</c> tiles on cores with full-rate AVX-512, <c>Vector128</c> on ARM64). <see cref="GemmReference"/> is its scalar twin (double accumulation),
/// used when SIMD is unavailable or forced off and by the tests.</para>
/// <para>Validation happens once at entry; the cores are unchecked. C must not overlap A or B.</para>
/// </remarks>
internal static partial class MatrixKernels
{
    /// <summary>Rows of the register tile of the Vector256 kernel (twelve accumulators: 6 rows × two 8-lane vectors).</summary>
    internal const int Mr = 6;

    /// <summary>Columns of a packed B panel and of the register tile: two Vector256 or one Vector512 of floats.</summary>
    internal const int Nr = 16;

    /// <summary>
    /// The longest K block: K is cut into near-equal chunks of at most this many, so a packed B panel (16 × kc floats,
    /// 20 KiB at 320) and an A panel stay in a 32 KiB L1 together. 320 rather than 256 lets K = 288 (a 3×3 convolution
    /// over 32 channels) run in one block and 784 in three: W4's per-sample products 12–16 % faster on Zen 5
    /// (benchmarks/README.md). The same limit serves every kernel, so they stay bitwise equal.
    /// </summary>
    internal const int KcMax = 320;

    /// <summary>Rows of A per M block (packed once per K block and reused across all of B's panels).</summary>
    internal const int Mc = 72;

    /// <summary>The K block of tall products (m ≥ <see cref="TallM"/>): one block, so C is written once.</summary>
    internal const int KcTall = 1024;

    /// <summary>From this many rows a product counts as tall (large-batch inference).</summary>
    internal const int TallM = 1024;
    /// <summary>A·Bᵀ with at most this many rows (small batches) runs as dot-product tiles, without packing.</summary>
    internal const int DotNtMaxRows = 16;

    /// <summary>
    /// When false, every kernel runs its scalar reference path (tests flip it to cover the fallback). On by default on
    /// x64 with AVX2 and FMA (<c>Vector256</c> kernels, <c>Vector512</c> where <see cref="Vector512Enabled"/>) and on
    /// ARM64 with AdvSimd (<c>Vector128</c> kernels).
    /// </summary>
    internal static bool SimdEnabled { get; set; } = X64Vectors || Arm64Vectors;

    private static bool X64Vectors => Fma.IsSupported && Avx.IsSupported && Vector256.IsHardwareAccelerated;

    private static bool Arm64Vectors => AdvSimd.Arm64.IsSupported && Vector128.IsHardwareAccelerated;

    /// <summary>Which kernels run on this machine: "AVX-512", "AVX2+FMA", "AdvSimd (Vector128)" or "scalar".</summary>
    internal static string KernelSet =>
        !SimdEnabled ? "scalar"
        : Fma.IsSupported ? (Vector512Enabled ? "AVX-512" : "AVX2+FMA")
        : "AdvSimd (Vector128)";

    /// <summary>Number of elements a row-major operand must span: (rows−1)·ld + cols, or 0 when empty.</summary>
    internal static long Extent(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;

    /// <summary>
    /// C (m×n) ← (accumulate ? C : 0) + op(A)·op(B) (+ 1·biasᵀ: bias[j] added to every row when <paramref name="bias"/>
    /// is not empty), then max(·, 0) when <paramref name="relu"/>: both fused into the store of the last K block.
    /// See the class remarks for layouts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, ReadOnlySpan<float> bias = default, bool relu = false)
    {
        ValidateGemm(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (!bias.IsEmpty && bias.Length < n) ThrowShape($"bias needs {n} elements but has {bias.Length}.");
        if (m == 0 || n == 0) return;
        if (k == 0 || !SimdEnabled)
        {
            GemmReference(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias, relu);
            return;
        }
        GemmBlocked(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias, relu);
    }

    /// <summary>Scalar reference twin of <see cref="Gemm"/>: the textbook triple loop, accumulating in double.</summary>
    public static void GemmReference(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, ReadOnlySpan<float> bias = default, bool relu = false)
    {
        ValidateGemm(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = accumulate ? c[i * ldc + j] : 0.0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                float v = bias.IsEmpty ? (float)sum : (float)sum + bias[j];
                c[i * ldc + j] = relu ? MathF.Max(v, 0f) : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValidateGemm(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) ThrowShape($"Gemm dimensions must be non-negative; got m={m}, n={n}, k={k}.");
        // op(A) is m×k; A itself is k×m when transposed.
        (int aRows, int aCols) = transposeA ? (k, m) : (m, k);
        (int bRows, int bCols) = transposeB ? (n, k) : (k, n);
        if (aRows > 0 && lda < aCols) ThrowShape($"lda={lda} is smaller than A's {aCols} columns.");
        if (bRows > 0 && ldb < bCols) ThrowShape($"ldb={ldb} is smaller than B's {bCols} columns.");
        if (m > 0 && ldc < n) ThrowShape($"ldc={ldc} is smaller than C's {n} columns.");
        if (aLength < Extent(aRows, aCols, lda)) ThrowShape($"A ({aRows}×{aCols}, lda={lda}) needs {Extent(aRows, aCols, lda)} elements but has {aLength}.");
        if (bLength < Extent(bRows, bCols, ldb)) ThrowShape($"B ({bRows}×{bCols}, ldb={ldb}) needs {Extent(bRows, bCols, ldb)} elements but has {bLength}.");
        if (cLength < Extent(m, n, ldc)) ThrowShape($"C ({m}×{n}, ldc={ldc}) needs {Extent(m, n, ldc)} elements but has {cLength}.");
    }

    [DoesNotReturn]
    private static void ThrowShape(string message) => throw new ArgumentException(message);
}
