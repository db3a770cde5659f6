using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>
    /// A·Bᵀ for a skinny output (n ≤ 16, e.g. a 10-class output layer) as blocks of dot products: both A's rows and B's
    /// rows run contiguously along k, so nothing is packed and no lanes are wasted on padding columns.
    /// C[i, j] (+)= Σₚ A[i, p]·B[j, p], four columns at a time through the GEMV kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmDotNt(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (long)i * lda;
            float* ci = c + (long)i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) Dot1x4(k, ai, b + (long)j * ldb, ldb, ci + j, accumulate, bias == null ? null : bias + j, relu);
            for (; j < n; j++)
            {
                float sum = DotVector(k, ai, b + (long)j * ldb);
                if (accumulate) sum += ci[j];
                if (bias != null) sum += bias[j];
                ci[j] = relu ? MathF.Max(sum, 0f) : sum;
            }
        }
    }

    /// <summary>c[0..4] (+)= a · rows 0..3 of b (row stride ldb): the GEMV kernel's four dot products.</summary>
    private static void Dot1x4(int k, float* a, float* b, int ldb, float* c, bool accumulate, float* bias, bool relu)
    {
        float* sums = stackalloc float[4];
        Dot4(k, b, ldb, a, null, sums);
        for (int j = 0; j < 4; j++)
        {
            float v = accumulate ? sums[j] + c[j] : sums[j];
            if (bias != null) v += bias[j];
            c[j] = relu ? MathF.Max(v, 0f) : v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotVector(int k, float* a, float* b)
    {
        Vector256<float> s = default;
        int p = 0;
        for (; p + 8 <= k; p += 8) s = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), s);
        return Vector256.Sum(s) + DotTail(a, b, p, k);
    }

    /// <summary>The skinny A·Bᵀ split into fixed row ranges of C.</summary>
    private sealed class DotNtJob : IParallelJob
    {
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private bool _accumulate, _relu;
        private float* _a, _b, _c, _bias;

        public void Set(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
        {
            _bias = bias;
            _relu = relu;
            (_m, _n, _k, _lda, _ldb, _ldc, _accumulate) = (m, n, k, lda, ldb, ldc, accumulate);
            _a = a;
            _b = b;
            _c = c;
        }

        public void Clear()
        {
            _a = null;
            _b = null;
            _c = null;
            _bias = null;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
        {
            int i0 = (int)((long)_m * part / parts), i1 = (int)((long)_m * (part + 1) / parts);
            if (i1 > i0) GemmDotNt(i1 - i0, _n, _k, _a + (long)i0 * _lda, _lda, _b, _ldb, _c + (long)i0 * _ldc, _ldc, _accumulate, _bias, _relu);
        }
    }
}
