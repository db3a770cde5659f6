using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>
    /// A·Bᵀ as blocks of dot products, for a skinny output (n ≤ 16, e.g. a 10-class output layer) or a short one
    /// (m ≤ <see cref="DotNtMaxRows"/>, e.g. Nielsen's batch of 10): both A's rows and B's rows run contiguously along k,
    /// so nothing is packed and no lanes are wasted on padding rows or columns.
    /// C[i, j] (+)= Σₚ A[i, p]·B[j, p] in tiles of 2 rows of A × 4 rows of B, over A in blocks of rows that fit in L1:
    /// every group of B's rows passes over a block before the next block is read. Every element is summed the same way whichever tile covers it (one eight-lane accumulator over k in
    /// steps of 8, its horizontal sum in the order of <see cref="ILanes8{TVector}.Sum"/>, then the k mod 8 tail in order), so results do not depend on how C is split.
    /// </summary>
    private static void GemmDotNt(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        if (Vector256.IsHardwareAccelerated) GemmDotNt<Lanes256, Vector256<float>>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias, relu);
        else GemmDotNt<Lanes128x2, Lanes128x2.Pair>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias, relu);
    }

    /// <summary><see cref="GemmDotNt(int, int, int, float*, int, float*, int, float*, int, bool, float*, bool)"/> in eight-lane vectors <typeparamref name="T"/> handled by <typeparamref name="TOps"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmDotNt<TOps, T>(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        // A tall A (a 10-class layer over a large batch) goes through in blocks of rows that fit in L1 (32 KiB), every
        // column of C done for one block before the next: A then streams from memory once instead of once per group of
        // B's rows.
        int block = Math.Max(4, 8192 / Math.Max(k, 1) & ~3);
        for (int i0 = 0; i0 < m; i0 += block)
            DotNtRows<TOps, T>(Math.Min(block, m - i0), n, k, a + (long)i0 * lda, lda, b, ldb, c + (long)i0 * ldc, ldc, accumulate, bias, relu);
    }

    /// <summary>All of C for <paramref name="m"/> rows of A: tiles of 2 × 4, then the columns left over four rows at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotNtRows<TOps, T>(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            float* bj = b + (long)j * ldb;
            float* biasJ = bias == null ? null : bias + j;
            int i = 0;
            for (; i + 2 <= m; i += 2) Dot2x4<TOps, T>(k, a + (long)i * lda, lda, bj, ldb, c + (long)i * ldc + j, ldc, accumulate, biasJ, relu);
            if (i < m) Dot1x4<TOps, T>(k, a + (long)i * lda, bj, ldb, c + (long)i * ldc + j, accumulate, biasJ, relu);
        }
        for (; j < n; j++)
        {
            float* bj = b + (long)j * ldb;
            float biasJ = bias == null ? 0f : bias[j];
            int i = 0;
            for (; i + 4 <= m; i += 4) Dot4x1<TOps, T>(k, a + (long)i * lda, lda, bj, c + (long)i * ldc + j, ldc, accumulate, bias != null, biasJ, relu);
            for (; i < m; i++)
            {
                float* ci = c + (long)i * ldc + j;
                *ci = Finish(DotVector<TOps, T>(k, a + (long)i * lda, bj), ci, accumulate, bias != null, biasJ, relu);
            }
        }
    }

    /// <summary>The element epilogue shared by every dot-product tile: (+ C) (+ bias), then max(·, 0) when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, float* c, bool accumulate, bool hasBias, float bias, bool relu)
    {
        if (accumulate) sum += *c;
        if (hasBias) sum += bias;
        return relu ? MathF.Max(sum, 0f) : sum;
    }

    /// <summary>C[0..2, 0..4] (+)= rows 0–1 of a · rows 0–3 of b: eight accumulators, six loads per eight FMAs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot2x4<TOps, T>(int k, float* a0, int lda, float* b0, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        float* a1 = a0 + lda;
        float* b1 = b0 + ldb;
        float* b2 = b1 + ldb;
        float* b3 = b2 + ldb;
        T s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            T x0 = TOps.Load(a0 + p), x1 = TOps.Load(a1 + p), y;
            y = TOps.Load(b0 + p); s00 = TOps.MultiplyAdd(x0, y, s00); s10 = TOps.MultiplyAdd(x1, y, s10);
            y = TOps.Load(b1 + p); s01 = TOps.MultiplyAdd(x0, y, s01); s11 = TOps.MultiplyAdd(x1, y, s11);
            y = TOps.Load(b2 + p); s02 = TOps.MultiplyAdd(x0, y, s02); s12 = TOps.MultiplyAdd(x1, y, s12);
            y = TOps.Load(b3 + p); s03 = TOps.MultiplyAdd(x0, y, s03); s13 = TOps.MultiplyAdd(x1, y, s13);
        }
        bool hasBias = bias != null;
        float* c1 = c + ldc;
        c[0] = Finish(TOps.Sum(s00) + DotTail(a0, b0, p, k), c, accumulate, hasBias, hasBias ? bias[0] : 0f, relu);
        c[1] = Finish(TOps.Sum(s01) + DotTail(a0, b1, p, k), c + 1, accumulate, hasBias, hasBias ? bias[1] : 0f, relu);
        c[2] = Finish(TOps.Sum(s02) + DotTail(a0, b2, p, k), c + 2, accumulate, hasBias, hasBias ? bias[2] : 0f, relu);
        c[3] = Finish(TOps.Sum(s03) + DotTail(a0, b3, p, k), c + 3, accumulate, hasBias, hasBias ? bias[3] : 0f, relu);
        c1[0] = Finish(TOps.Sum(s10) + DotTail(a1, b0, p, k), c1, accumulate, hasBias, hasBias ? bias[0] : 0f, relu);
        c1[1] = Finish(TOps.Sum(s11) + DotTail(a1, b1, p, k), c1 + 1, accumulate, hasBias, hasBias ? bias[1] : 0f, relu);
        c1[2] = Finish(TOps.Sum(s12) + DotTail(a1, b2, p, k), c1 + 2, accumulate, hasBias, hasBias ? bias[2] : 0f, relu);
        c1[3] = Finish(TOps.Sum(s13) + DotTail(a1, b3, p, k), c1 + 3, accumulate, hasBias, hasBias ? bias[3] : 0f, relu);
    }

    /// <summary>C[0, 0..4] (+)= a · rows 0–3 of b, summed as in <see cref="Dot2x4{TOps, T}"/> (the odd last row).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot1x4<TOps, T>(int k, float* a, float* b0, int ldb, float* c, bool accumulate, float* bias, bool relu)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        float* b1 = b0 + ldb;
        float* b2 = b1 + ldb;
        float* b3 = b2 + ldb;
        T s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            T x = TOps.Load(a + p);
            s0 = TOps.MultiplyAdd(x, TOps.Load(b0 + p), s0);
            s1 = TOps.MultiplyAdd(x, TOps.Load(b1 + p), s1);
            s2 = TOps.MultiplyAdd(x, TOps.Load(b2 + p), s2);
            s3 = TOps.MultiplyAdd(x, TOps.Load(b3 + p), s3);
        }
        bool hasBias = bias != null;
        c[0] = Finish(TOps.Sum(s0) + DotTail(a, b0, p, k), c, accumulate, hasBias, hasBias ? bias[0] : 0f, relu);
        c[1] = Finish(TOps.Sum(s1) + DotTail(a, b1, p, k), c + 1, accumulate, hasBias, hasBias ? bias[1] : 0f, relu);
        c[2] = Finish(TOps.Sum(s2) + DotTail(a, b2, p, k), c + 2, accumulate, hasBias, hasBias ? bias[2] : 0f, relu);
        c[3] = Finish(TOps.Sum(s3) + DotTail(a, b3, p, k), c + 3, accumulate, hasBias, hasBias ? bias[3] : 0f, relu);
    }

    /// <summary>C[0..4, 0] (+)= rows 0–3 of a · b, summed as in <see cref="Dot2x4{TOps, T}"/> (columns left over after groups of four).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x1<TOps, T>(int k, float* a0, int lda, float* b, float* c, int ldc, bool accumulate, bool hasBias, float bias, bool relu)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        float* a1 = a0 + lda;
        float* a2 = a1 + lda;
        float* a3 = a2 + lda;
        T s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            T y = TOps.Load(b + p);
            s0 = TOps.MultiplyAdd(TOps.Load(a0 + p), y, s0);
            s1 = TOps.MultiplyAdd(TOps.Load(a1 + p), y, s1);
            s2 = TOps.MultiplyAdd(TOps.Load(a2 + p), y, s2);
            s3 = TOps.MultiplyAdd(TOps.Load(a3 + p), y, s3);
        }
        c[0] = Finish(TOps.Sum(s0) + DotTail(a0, b, p, k), c, accumulate, hasBias, bias, relu);
        c[ldc] = Finish(TOps.Sum(s1) + DotTail(a1, b, p, k), c + ldc, accumulate, hasBias, bias, relu);
        c[2L * ldc] = Finish(TOps.Sum(s2) + DotTail(a2, b, p, k), c + 2L * ldc, accumulate, hasBias, bias, relu);
        c[3L * ldc] = Finish(TOps.Sum(s3) + DotTail(a3, b, p, k), c + 3L * ldc, accumulate, hasBias, bias, relu);
    }

    /// <summary>One element: Σₚ a[p]·b[p], summed as in <see cref="Dot2x4{TOps, T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotVector<TOps, T>(int k, float* a, float* b)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        T s = default;
        int p = 0;
        for (; p + 8 <= k; p += 8) s = TOps.MultiplyAdd(TOps.Load(a + p), TOps.Load(b + p), s);
        return TOps.Sum(s) + DotTail(a, b, p, k);
    }

    /// <summary>The dot-product A·Bᵀ split into fixed row ranges of C, or column ranges when C has more columns than rows.</summary>
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
            if (_m >= _n)
            {
                int i0 = (int)((long)_m * part / parts), i1 = (int)((long)_m * (part + 1) / parts);
                if (i1 > i0) GemmDotNt(i1 - i0, _n, _k, _a + (long)i0 * _lda, _lda, _b, _ldb, _c + (long)i0 * _ldc, _ldc, _accumulate, _bias, _relu);
            }
            else
            {
                // A short A (few rows, many columns of C): split the columns, in groups of four, so each thread reads its own rows of B.
                int groups = (_n + 3) / 4;
                int j0 = Math.Min(_n, (int)((long)groups * part / parts) * 4), j1 = Math.Min(_n, (int)((long)groups * (part + 1) / parts) * 4);
                if (j1 > j0) GemmDotNt(_m, j1 - j0, _k, _a, _lda, _b + (long)j0 * _ldb, _ldb, _c + j0, _ldc, _accumulate, _bias == null ? null : _bias + j0, _relu);
            }
        }
    }
}
