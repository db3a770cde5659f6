using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>
    /// A·Bᵀ for a skinny output (n ≤ 16, e.g. a 10-class output layer) as blocks of dot products: both A's rows and B's
    /// rows run contiguously along k, so nothing is packed and no lanes are wasted on padding columns.
    /// C[i, j] (+)= Σₚ A[i, p]·B[j, p], four columns at a time through the GEMV kernel.
    /// </summary>
    private static void GemmDotNt(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (long)i * lda;
            float* ci = c + (long)i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) Dot1x4(k, ai, b + (long)j * ldb, ldb, ci + j, accumulate);
            for (; j < n; j++)
            {
                float sum = DotVector(k, ai, b + (long)j * ldb);
                ci[j] = accumulate ? ci[j] + sum : sum;
            }
        }
    }

    /// <summary>c[0..4] (+)= a · rows 0..3 of b (row stride ldb): the GEMV kernel's four dot products.</summary>
    private static void Dot1x4(int k, float* a, float* b, int ldb, float* c, bool accumulate)
    {
        float* sums = stackalloc float[4];
        Dot4(k, b, ldb, a, null, sums);
        for (int j = 0; j < 4; j++) c[j] = accumulate ? c[j] + sums[j] : sums[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotVector(int k, float* a, float* b)
    {
        Vector256<float> s = default;
        int p = 0;
        for (; p + 8 <= k; p += 8) s = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), s);
        return Vector256.Sum(s) + DotTail(a, b, p, k);
    }
}
