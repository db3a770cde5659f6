using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    // Per-thread packing buffers, grown on demand and then reused: the hot path allocates nothing.
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    private static float[] Rent(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return buffer;
    }

    /// <summary>GEMM work below this many multiply-adds (m·n·k) stays on one thread: hand-off would cost more than it saves.</summary>
    internal const long ParallelThreshold = 1L << 18;

    [ThreadStatic] private static GemmJob? t_job;

    private static void GemmBlocked(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            int threads = ComputeOptions.ThreadCount;
            long work = (long)m * n * k;
            if (threads == 1 || work < ParallelThreshold)
            {
                GemmCore(transposeA, transposeB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
                return;
            }
            GemmJob job = t_job ??= new GemmJob();
            job.Set(transposeA, transposeB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            int parts = Math.Min(threads, job.MaxParts);
            WorkerPool.Run(job, parts);
            job.Clear();
        }
    }

    /// <summary>
    /// One GEMM split into fixed slices of C: along N in 16-column panels when m &lt; n (each thread packs its own
    /// columns of B), otherwise along M in 6-row panels. Every element of C is computed by one thread, in the same order
    /// whatever the number of parts.
    /// </summary>
    private sealed class GemmJob : IParallelJob
    {
        private bool _ta, _tb, _accumulate, _splitN;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float* _a, _b, _c;

        public int MaxParts => _splitN ? (_n + Nr - 1) / Nr : (_m + Mr - 1) / Mr;

        public void Set(bool ta, bool tb, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
        {
            (_ta, _tb, _m, _n, _k, _lda, _ldb, _ldc, _accumulate) = (ta, tb, m, n, k, lda, ldb, ldc, accumulate);
            _a = a;
            _b = b;
            _c = c;
            _splitN = m < n;
        }

        public void Clear()
        {
            _a = null;
            _b = null;
            _c = null;
        }

        public void RunPart(int part, int parts)
        {
            if (_splitN)
            {
                int panels = (_n + Nr - 1) / Nr;
                int j0 = Math.Min(_n, (int)((long)panels * part / parts) * Nr);
                int j1 = Math.Min(_n, (int)((long)panels * (part + 1) / parts) * Nr);
                if (j1 <= j0) return;
                float* b = _tb ? _b + (long)j0 * _ldb : _b + j0;
                GemmCore(_ta, _tb, _m, j1 - j0, _k, _a, _lda, b, _ldb, _c + j0, _ldc, _accumulate);
            }
            else
            {
                int panels = (_m + Mr - 1) / Mr;
                int i0 = Math.Min(_m, (int)((long)panels * part / parts) * Mr);
                int i1 = Math.Min(_m, (int)((long)panels * (part + 1) / parts) * Mr);
                if (i1 <= i0) return;
                float* a = _ta ? _a + i0 : _a + (long)i0 * _lda;
                GemmCore(_ta, _tb, i1 - i0, _n, _k, a, _lda, _b, _ldb, _c + (long)i0 * _ldc, _ldc, _accumulate);
            }
        }
    }

    private static void GemmCore(bool transposeA, bool transposeB, int m, int n, int k,
        float* pa0, int lda, float* pb0, int ldb, float* pc0, int ldc, bool accumulate)
    {
        // K is split into equal chunks of at most KcMax, each padded to a multiple of 4 for the unrolled kernel.
        int kChunks = (k + KcMax - 1) / KcMax;
        int kcNominal = (k + kChunks - 1) / kChunks;
        int kcPadded = (kcNominal + 3) & ~3;
        int nPanels = (n + Nr - 1) / Nr;
        float[] packB = Rent(ref t_packB, nPanels * Nr * kcPadded);
        float[] packA = Rent(ref t_packA, (Mc / Mr) * Mr * kcPadded);
        float* tile = stackalloc float[Mr * Nr];

        fixed (float* packedA = packA)
        fixed (float* packedB = packB)
        {
            for (int pc = 0; pc < k; pc += kcNominal)
            {
                int kc = Math.Min(kcNominal, k - pc);
                int kcp = (kc + 3) & ~3;
                bool acc = accumulate || pc > 0;
                PackB(transposeB, pb0, ldb, pc, kc, kcp, n, packedB);
                for (int ic = 0; ic < m; ic += Mc)
                {
                    int mc = Math.Min(Mc, m - ic);
                    PackA(transposeA, pa0, lda, ic, mc, pc, kc, kcp, packedA);
                    for (int jr = 0; jr < n; jr += Nr)
                    {
                        int nr = Math.Min(Nr, n - jr);
                        float* bPanel = packedB + (jr / Nr) * Nr * kcp;
                        for (int ir = 0; ir < mc; ir += Mr)
                        {
                            int mr = Math.Min(Mr, mc - ir);
                            float* aPanel = packedA + (ir / Mr) * Mr * kcp;
                            float* cTile = pc0 + (long)(ic + ir) * ldc + jr;
                            if (mr == Mr && nr == Nr)
                            {
                                Kernel6x16(kcp, aPanel, bPanel, cTile, ldc, acc);
                            }
                            else
                            {
                                Kernel6x16(kcp, aPanel, bPanel, tile, Nr, false);
                                MergeTile(tile, cTile, ldc, mr, nr, acc);
                            }
                        }
                    }
                }
            }
        }
    }

    private static void MergeTile(float* tile, float* c, int ldc, int mr, int nr, bool accumulate)
    {
        for (int i = 0; i < mr; i++)
        {
            float* src = tile + i * Nr;
            float* dst = c + (long)i * ldc;
            if (accumulate) for (int j = 0; j < nr; j++) dst[j] += src[j];
            else for (int j = 0; j < nr; j++) dst[j] = src[j];
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] into 6-row micro-panels, k-major (panel[p·6 + r]), zero-padded to kcp and to whole panels.</summary>
    private static void PackA(bool transposeA, float* a, int lda, int ic, int mc, int pc, int kc, int kcp, float* dst)
    {
        for (int ir = 0; ir < mc; ir += Mr)
        {
            int mr = Math.Min(Mr, mc - ir);
            float* panel = dst + (ir / Mr) * Mr * kcp;
            if (transposeA)
            {
                // A is stored k×m: row p of A holds op(A)[·, p] contiguously.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(pc + p) * lda + ic + ir;
                    float* d = panel + p * Mr;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[r];
                    for (; r < Mr; r++) d[r] = 0f;
                }
            }
            else
            {
                for (int r = 0; r < mr; r++)
                {
                    float* src = a + (long)(ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) panel[p * Mr + r] = src[p];
                }
                for (int r = mr; r < Mr; r++)
                    for (int p = 0; p < kc; p++) panel[p * Mr + r] = 0f;
            }
            new Span<float>(panel + kc * Mr, (kcp - kc) * Mr).Clear();
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, 0..n] into 16-column micro-panels, k-major (panel[p·16 + j]), zero-padded to kcp and to whole panels.</summary>
    private static void PackB(bool transposeB, float* b, int ldb, int pc, int kc, int kcp, int n, float* dst)
    {
        for (int jr = 0; jr < n; jr += Nr)
        {
            int nr = Math.Min(Nr, n - jr);
            float* panel = dst + (jr / Nr) * Nr * kcp;
            if (transposeB)
            {
                // B is stored n×k: row j of B holds op(B)[·, j] contiguously.
                for (int j = 0; j < nr; j++)
                {
                    float* src = b + (long)(jr + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) panel[p * Nr + j] = src[p];
                }
                for (int j = nr; j < Nr; j++)
                    for (int p = 0; p < kc; p++) panel[p * Nr + j] = 0f;
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(pc + p) * ldb + jr;
                    float* d = panel + p * Nr;
                    if (nr == Nr)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else
                    {
                        int j = 0;
                        for (; j < nr; j++) d[j] = src[j];
                        for (; j < Nr; j++) d[j] = 0f;
                    }
                }
            }
            new Span<float>(panel + kc * Nr, (kcp - kc) * Nr).Clear();
        }
    }

    /// <summary>
    /// The 6×16 register tile: C[0..6, 0..16] (+)= Σₚ a[p·6 + r] · b[p·16 + j] over packed panels, kc a multiple of 4.
    /// Twelve Vector256 accumulators, two B vectors and one broadcast per row; one hot loop, unrolled ×4 by hand.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<float> b0 = Avx.LoadVector256(b), b1 = Avx.LoadVector256(b + 8), av;
            av = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadVector256(b + 16); b1 = Avx.LoadVector256(b + 24);
            av = Vector256.Create(a[6]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[7]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[8]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[9]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[10]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[11]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadVector256(b + 32); b1 = Avx.LoadVector256(b + 40);
            av = Vector256.Create(a[12]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[13]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[14]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[15]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[16]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[17]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            b0 = Avx.LoadVector256(b + 48); b1 = Avx.LoadVector256(b + 56);
            av = Vector256.Create(a[18]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[19]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[20]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[21]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[22]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[23]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);

            a += 24;
            b += 64;
        }

        if (accumulate)
        {
            Store(c, c00 + Load(c), c01 + Load(c + 8)); c += ldc;
            Store(c, c10 + Load(c), c11 + Load(c + 8)); c += ldc;
            Store(c, c20 + Load(c), c21 + Load(c + 8)); c += ldc;
            Store(c, c30 + Load(c), c31 + Load(c + 8)); c += ldc;
            Store(c, c40 + Load(c), c41 + Load(c + 8)); c += ldc;
            Store(c, c50 + Load(c), c51 + Load(c + 8));
        }
        else
        {
            Store(c, c00, c01); c += ldc;
            Store(c, c10, c11); c += ldc;
            Store(c, c20, c21); c += ldc;
            Store(c, c30, c31); c += ldc;
            Store(c, c40, c41); c += ldc;
            Store(c, c50, c51);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* p) => Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector256<float> lo, Vector256<float> hi)
    {
        Avx.Store(p, lo);
        Avx.Store(p + 8, hi);
    }
}
