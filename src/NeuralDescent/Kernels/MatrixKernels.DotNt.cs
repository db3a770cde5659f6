using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>
    /// A·Bᵀ for a skinny output (n ≤ 16, e.g. a 10-class output layer) as blocks of dot products: both A's rows and B's
    /// rows run contiguously along k, so nothing is packed and no lanes are wasted on padding columns.
    /// C[i, j] (+)= Σₚ A[i, p]·B[j, p], four columns at a time with one Vector256 accumulator each.
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

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot1x4(int k, float* a, float* b, int ldb, float* c, bool accumulate)
    {
        float* b1 = b + ldb, b2 = b + 2L * ldb, b3 = b + 3L * ldb;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            Vector256<float> av = Vector256.Load(a + p);
            s0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b + p), s0);
            s1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b1 + p), s1);
            s2 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b2 + p), s2);
            s3 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b3 + p), s3);
        }
        float r0 = Vector256.Sum(s0) + DotTail(a, b, p, k);
        float r1 = Vector256.Sum(s1) + DotTail(a, b1, p, k);
        float r2 = Vector256.Sum(s2) + DotTail(a, b2, p, k);
        float r3 = Vector256.Sum(s3) + DotTail(a, b3, p, k);
        if (accumulate)
        {
            r0 += c[0];
            r1 += c[1];
            r2 += c[2];
            r3 += c[3];
        }
        c[0] = r0;
        c[1] = r1;
        c[2] = r2;
        c[3] = r3;
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
