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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float[] Rent(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return buffer;
    }

    /// <summary>GEMM work below this many multiply-adds (m·n·k) stays on one thread: hand-off would cost more than it saves.</summary>
    internal const long ParallelThreshold = 1L << 18;

    [ThreadStatic] private static GemmJob? t_job;
    [ThreadStatic] private static DotNtJob? t_dotJob;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmBlocked(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, ReadOnlySpan<float> bias, bool relu)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* pbias0 = bias)
        {
            float* pbias = bias.IsEmpty ? null : pbias0;
            int threads = WorkerPool.AvailableThreads;
            long work = (long)m * n * k;
            if (UsesDotNt(transposeA, transposeB, m, n, k))
            {
                if (threads == 1 || work < ParallelThreshold)
                {
                    GemmDotNt(m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, relu);
                    return;
                }
                DotNtJob dot = t_dotJob ??= new DotNtJob();
                dot.Set(m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, relu);
                WorkerPool.Run(dot, Math.Min(threads, m >= n ? m : (n + 3) / 4));
                dot.Clear();
                return;
            }
            if (threads == 1 || work < ParallelThreshold)
            {
                GemmCore(transposeA, transposeB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, relu);
                return;
            }
            GemmJob job = t_job ??= new GemmJob();
            job.Set(transposeA, transposeB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, pbias, relu);
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
        private bool _ta, _tb, _accumulate, _splitN, _relu;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float* _a, _b, _c, _bias;

        public int MaxParts => _splitN ? (_n + Nr - 1) / Nr : (_m + Mr - 1) / Mr;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Set(bool ta, bool tb, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
        {
            _bias = bias;
            _relu = relu;
            (_ta, _tb, _m, _n, _k, _lda, _ldb, _ldc, _accumulate) = (ta, tb, m, n, k, lda, ldb, ldc, accumulate);
            _a = a;
            _b = b;
            _c = c;
            // A weight gradient (Aᵀ·B, C = ∂W) is split by rows of C, i.e. by output neuron: the same rows of W that the
            // forward product (split by columns of X·Wᵀ) and the optimizer (split by element ranges) give each thread,
            // so each core keeps its half of W and ∂W in its own cache across the phases of a step.
            _splitN = !ta && m < n;
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
            if (_splitN)
            {
                int panels = (_n + Nr - 1) / Nr;
                int j0 = Math.Min(_n, (int)((long)panels * part / parts) * Nr);
                int j1 = Math.Min(_n, (int)((long)panels * (part + 1) / parts) * Nr);
                if (j1 <= j0) return;
                float* b = _tb ? _b + (long)j0 * _ldb : _b + j0;
                GemmCore(_ta, _tb, _m, j1 - j0, _k, _a, _lda, b, _ldb, _c + j0, _ldc, _accumulate, _bias == null ? null : _bias + j0, _relu);
            }
            else
            {
                int panels = (_m + Mr - 1) / Mr;
                int i0 = Math.Min(_m, (int)((long)panels * part / parts) * Mr);
                int i1 = Math.Min(_m, (int)((long)panels * (part + 1) / parts) * Mr);
                if (i1 <= i0) return;
                float* a = _ta ? _a + i0 : _a + (long)i0 * _lda;
                GemmCore(_ta, _tb, i1 - i0, _n, _k, a, _lda, _b, _ldb, _c + (long)i0 * _ldc, _ldc, _accumulate, _bias, _relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmCore(bool transposeA, bool transposeB, int m, int n, int k,
        float* pa0, int lda, float* pb0, int ldb, float* pc0, int ldc, bool accumulate, float* bias, bool relu)
    {
        // K is split into near-equal chunks of at most KcMax, rounded up to a multiple of 4 for the unrolled kernels.
        // Tall products (large batches, inference) take K in one block of up to KcTall: C is then written once instead
        // of once per K block, and A's rows stream from memory once, in order.
        int kcNominal = KBlock(m, k);
        // When every chunk is a multiple of 4, full 6-row panels of A are read in place (no packing):
        // a row-major A row by row, a transposed A six contiguous values per k. Edge panels are always packed.
        // With AVX-512, pairs of 6-row panels go through the 12-row Vector512 kernels, which read A in place the same
        // way; the rows after the pairs are packed (I2's 10000×128×784 on one Zen 5 thread: 78–81 % of the peak with
        // A packed, 96–97 % in place), and read from there by the 6-row kernels unless they come in fours, which a 4×32
        // kernel reads in place against paired B panels (see MultiplyPanels).
        // (The in-place kernels are x64-only; ARM64's Vector128 kernel always reads packed panels.)
        bool inPlaceA = (k & 3) == 0 && Fma.IsSupported;
        bool wide = Vector512Enabled;
        // A short product (one M block) over a row-major B reads B's rows where they are for the column pairs of the
        // 12×32 and 6×32 kernels: each row segment is loaded from memory once either way, and packing would write it
        // out and read it back. Only the columns left after the pairs are packed. Needs every K block a multiple of 4
        // (the kernels run to kcp).
        bool inPlaceB = wide && !transposeB && m <= Mc && n >= 2 * Nr && (k & 3) == 0;
        int pairedColumns = inPlaceB ? n / (2 * Nr) * 2 * Nr : 0;
        int nPanels = (n + Nr - 1) / Nr;
        float[] packB = Rent(ref t_packB, nPanels * Nr * kcNominal);
        float[] packA = Rent(ref t_packA, (Mc / Mr) * Mr * kcNominal);
        float* tile = stackalloc float[Mr * 2 * Nr];

        fixed (float* packedA = packA)
        fixed (float* packedB = packB)
        {
            for (int pc = 0; pc < k; pc += kcNominal)
            {
                int kc = Math.Min(kcNominal, k - pc);
                int kcp = (kc + 3) & ~3;
                bool acc = accumulate || pc > 0;
                bool last = pc + kc >= k; // the epilogue (bias) is applied on the last K block only
                if (pairedColumns < n)
                    PackB(transposeB, transposeB ? pb0 + (long)pairedColumns * ldb : pb0 + pairedColumns, ldb, pc, kc, kcp, n - pairedColumns, packedB + (long)(pairedColumns / Nr) * Nr * kcp);
                for (int ic = 0; ic < m; ic += Mc)
                {
                    int mc = Math.Min(Mc, m - ic);
                    if (inPlaceA)
                    {
                        // Only the rows the in-place kernels do not take are packed: the ragged last panel, and with
                        // AVX-512 the rows after the 12-row pairs.
                        int packedFrom = InPlacePackedFrom(mc, wide);
                        if (packedFrom < mc) PackA(transposeA, pa0, lda, ic + packedFrom, mc - packedFrom, pc, kc, kcp, packedA);
                    }
                    else
                    {
                        PackA(transposeA, pa0, lda, ic, mc, pc, kc, kcp, packedA);
                    }
                    MultiplyPanels(mc, n, kcp, packedA, packedB, pc0, ldc, ic, acc, last && bias != null ? bias : null, last && relu, transposeA, inPlaceA, pa0, lda, pc, tile,
                        inPlaceB ? pb0 + (long)pc * ldb : null, ldb);
                }
            }
        }
    }

    /// <summary>
    /// C[ic.., 0..n] (+)= A·B over packed panels: <paramref name="mc"/> rows of A in 6-row panels (k-major, panel i at
    /// packedA + i·6·kcp) against all 16-column panels of B (panel j at packedB + j·16·kcp), kcp a multiple of 4; the
    /// register tiles and their order are the ones every GEMM here uses. With <paramref name="inPlaceA"/>, full
    /// 6-row panels are read from <paramref name="pa0"/> itself (rows ic.., K offset pc) instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyPanels(int mc, int n, int kcp, float* packedA, float* packedB, float* pc0, int ldc, int ic, bool acc,
        float* bias, bool rectify, bool transposeA, bool inPlaceA, float* pa0, int lda, int pc, float* tile, float* inPlaceB = null, int ldb = 0)
    {
        bool wide = Vector512Enabled;
        for (int jr = 0; jr < n;)
        {
            int nr = Math.Min(Nr, n - jr);
            float* bPanel = packedB + (jr / Nr) * Nr * kcp;
            float* epilogue = bias != null ? bias + jr : null;
            // With AVX-512, pairs of packed 6-row panels go through a Vector512 kernel: 12×32 over two
            // full B panels at once (24 accumulators, half the broadcasts per FMA), else 12×16.
            bool pairB = wide && jr + 2 * Nr <= n;
            // The second panel of a pair, and the distance between B's rows: packed, or B itself (see GemmCore).
            float* bPanel1 = bPanel + Nr * kcp;
            int bStride = Nr;
            if (pairB && inPlaceB != null)
            {
                bPanel = inPlaceB + jr;
                bPanel1 = bPanel + Nr;
                bStride = ldb;
            }
            int ir = 0;
            if (wide && nr == Nr && (pairB || !inPlaceA))
            {
                for (; ir + 2 * Mr <= mc; ir += 2 * Mr)
                {
                    float* cTile = pc0 + (long)(ic + ir) * ldc + jr;
                    if (inPlaceA)
                    {
                        if (transposeA)
                        {
                            float* a = pa0 + (long)pc * lda + ic + ir;
                            Kernel12x32Vector512(kcp, a, a + Mr, bPanel, bPanel1, bStride, cTile, ldc, acc, epilogue, rectify, aStep: lda);
                        }
                        else
                        {
                            KernelRows12x32Vector512(kcp, pa0 + (long)(ic + ir) * lda + pc, lda, bPanel, bPanel1, bStride, cTile, ldc, acc, epilogue, rectify);
                        }
                        continue;
                    }
                    float* pair = packedA + (ir / Mr) * Mr * kcp;
                    if (pairB) Kernel12x32Vector512(kcp, pair, pair + Mr * kcp, bPanel, bPanel1, bStride, cTile, ldc, acc, epilogue, rectify);
                    else Kernel12x16Vector512(kcp, pair, pair + Mr * kcp, bPanel, cTile, ldc, acc, epilogue, rectify);
                }
            }
            if (pairB && inPlaceA && (mc - ir) % 4 == 0)
            {
                // The rows after the pairs when they come in fours (M = 64 leaves 4, M = 128 leaves 8): read in place,
                // four at a time, straight into C, instead of a packed 6-row panel with two rows of padding.
                for (; ir < mc; ir += 4)
                {
                    float* a = transposeA ? pa0 + (long)pc * lda + ic + ir : pa0 + (long)(ic + ir) * lda + pc;
                    Kernel4x32Vector512(kcp, a, transposeA ? 1 : lda, transposeA ? lda : 1, bPanel, bPanel1, bStride,
                        pc0 + (long)(ic + ir) * ldc + jr, ldc, acc, epilogue, rectify);
                }
            }
            for (; pairB && ir < mc; ir += Mr)
            {
                // Any other rows left after the pairs (M = 71 leaves 11), or all of them when A is packed: the 6×32
                // Vector512 kernel over both B panels, through a scratch tile when the panel is ragged.
                int mr = Math.Min(Mr, mc - ir);
                float* single = packedA + PackedPanelOffset(ir, mc, kcp, inPlaceA, wide);
                float* cTile = pc0 + (long)(ic + ir) * ldc + jr;
                if (mr == Mr)
                {
                    Kernel6x32Vector512(kcp, single, bPanel, bPanel1, bStride, cTile, ldc, acc, epilogue, rectify);
                }
                else
                {
                    Kernel6x32Vector512(kcp, single, bPanel, bPanel1, bStride, tile, 2 * Nr, false, null, false);
                    MergeTile(tile, 2 * Nr, cTile, ldc, mr, 2 * Nr, acc, epilogue, rectify);
                }
            }
            PanelRows(ir, mc, nr, kcp, transposeA, inPlaceA, wide, pa0, lda, pc, ic, packedA, bPanel, pc0 + jr, ldc, acc, epilogue, rectify, tile);
            if (pairB)
            {
                // The second panel's rows the 12×32 kernel did not cover.
                PanelRows(ir, mc, Nr, kcp, transposeA, inPlaceA, wide, pa0, lda, pc, ic, packedA, bPanel + Nr * kcp, pc0 + jr + Nr, ldc, acc,
                    epilogue == null ? null : epilogue + Nr, rectify, tile);
            }
            jr += pairB ? 2 * Nr : Nr;
        }
    }

    /// <summary>Whether <see cref="Gemm"/> takes an A·Bᵀ of this shape through the dot-product kernels (few rows or few columns).</summary>
    private static bool UsesDotNt(bool transposeA, bool transposeB, int m, int n, int k)
        => !transposeA && transposeB && (n <= Nr || m <= DotNtMaxRows) && k >= 16;

    /// <summary>
    /// Whether <see cref="Gemm"/> computes a product of this shape from packed panels in K blocks of <see cref="KBlock"/>,
    /// so that <see cref="MultiplyPrepacked"/> over the same blocks gives the same bits (not the scalar reference, not the
    /// dot-product kernels).
    /// </summary>
    internal static bool UsesPanels(bool transposeA, bool transposeB, int m, int n, int k)
        => SimdEnabled && m > 0 && n > 0 && k > 0 && !UsesDotNt(transposeA, transposeB, m, n, k);

    /// <summary>
    /// The K block <see cref="Gemm"/> takes for an m-row product with inner size k: k cut into near-equal chunks of at
    /// most <see cref="KcMax"/> (<see cref="KcTall"/> from <see cref="TallM"/> rows), rounded up to a multiple of 4.
    /// A product built from prepacked panels cuts K the same way to sum in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int KBlock(int m, int k)
    {
        int kcLimit = m >= TallM ? KcTall : KcMax;
        int kChunks = (k + kcLimit - 1) / kcLimit;
        return Math.Min(kcLimit, (((k + kChunks - 1) / kChunks) + 3) & ~3);
    }

    /// <summary>Floats a whole m × k A takes packed into 6-row panels (<see cref="PackAPanels"/>).</summary>
    internal static int PackedASize(int m, int k) => (m + Mr - 1) / Mr * Mr * ((k + 3) & ~3);

    /// <summary>Floats a k × n B takes in 16-column panels (<see cref="MultiplyPrepacked"/>): panel j at j·16·kcp.</summary>
    internal static int PackedBSize(int n, int k) => (n + Nr - 1) / Nr * Nr * ((k + 3) & ~3);

    /// <summary>
    /// Packs a row-major m × k matrix A (row stride <paramref name="lda"/>) whole into the 6-row, k-major panels the
    /// kernels read, zero-padded to whole panels and to k rounded up to 4 (<see cref="PackedASize"/> floats).
    /// </summary>
    internal static void PackAPanels(float* a, int lda, int m, int k, float* dst) => PackA(false, a, lda, 0, m, 0, k, (k + 3) & ~3, dst);

    /// <summary>
    /// C = A·B (m × n, row stride <paramref name="ldc"/>) from an A packed by <see cref="PackAPanels"/> and a B already
    /// laid out in 16-column panels, <c>b[(j / 16)·16·kcp + p·16 + j % 16]</c> with kcp = k rounded up to 4 and zeros in
    /// the padding rows; on the calling thread, in one K block. Each element is summed in the same order as by
    /// <see cref="Gemm"/> with k ≤ <see cref="KcMax"/>; with <paramref name="accumulate"/>, C += A·B, as one K block of a
    /// longer product (blocks of <see cref="KBlock"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyPrepacked(int m, int n, int k, float* packedA, float* packedB, float* c, int ldc, bool accumulate = false)
    {
        int kcp = (k + 3) & ~3;
        float* tile = stackalloc float[Mr * 2 * Nr];
        for (int ic = 0; ic < m; ic += Mc)
        {
            int mc = Math.Min(Mc, m - ic);
            MultiplyPanels(mc, n, kcp, packedA + (long)(ic / Mr) * Mr * kcp, packedB, c, ldc, ic, accumulate, null, false, false, false, null, 0, 0, tile);
        }
    }

    /// <summary>
    /// C[0..m, 0..32] (+)= A·B with AVX-512, for a k × 32 B read where it lies: row p of B is 32 floats, the rows
    /// <paramref name="ldb"/> apart and walked as <paramref name="walk"/> says (for a convolution, an input stored
    /// position by position, channels last, one output row per run). A is packed by <see cref="PackAPanels"/> (panels
    /// kcp = k rounded up to 4 apart; only k rows are used, the padding adds nothing). The tiles, kernels and merge are
    /// <see cref="MultiplyPrepacked"/>'s, so each element is summed in the same order as there: the same bits as the
    /// product over a packed B holding the same values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyRowRuns(int m, int k, float* packedA, float* b, int ldb, RowWalk walk, float* c, int ldc, bool accumulate)
    {
        int kcp = (k + 3) & ~3;
        float* tile = stackalloc float[Mr * 2 * Nr];
        int ir = 0;
        for (; ir + 2 * Mr <= m; ir += 2 * Mr)
        {
            float* pair = packedA + (long)(ir / Mr) * Mr * kcp;
            Kernel12x32Vector512(k, pair, pair + Mr * kcp, b, b + Nr, ldb, c + (long)ir * ldc, ldc, accumulate, null, false, walk);
        }
        for (; ir < m; ir += Mr)
        {
            int mr = Math.Min(Mr, m - ir);
            float* single = packedA + (long)(ir / Mr) * Mr * kcp;
            if (mr == Mr)
            {
                Kernel6x32Vector512(k, single, b, b + Nr, ldb, c + (long)ir * ldc, ldc, accumulate, null, false, walk);
            }
            else
            {
                Kernel6x32Vector512(k, single, b, b + Nr, ldb, tile, 2 * Nr, false, null, false, walk);
                MergeTile(tile, 2 * Nr, c + (long)ir * ldc, ldc, mr, 2 * Nr, accumulate, null, false);
            }
        }
    }

    /// <summary>
    /// C[rows, 0..32] += A·B with AVX-512 for m a multiple of 12, over a 32-column B read in place (rows
    /// <paramref name="ldb"/> apart) and an A packed by <see cref="PackAPanelsTransposed"/>; the rows of C come in runs of
    /// <paramref name="rowRun"/> (a multiple of 12), each run followed by <paramref name="rowSkip"/> rows that are not
    /// touched: row r of the product is row (r / rowRun)·(rowRun + rowSkip) + r mod rowRun of C. Each element is one
    /// 12×32 tile's chain over k from zero, then added to C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyIntoRowRuns(int m, int k, float* packedA, float* b, int ldb, float* c, int ldc, int rowRun, int rowSkip)
    {
        int kcp = (k + 3) & ~3;
        for (int ir = 0; ir < m; ir += 2 * Mr)
        {
            float* pair = packedA + (long)(ir / Mr) * Mr * kcp;
            float* tile = c + ((long)(ir / rowRun) * (rowRun + rowSkip) + ir % rowRun) * ldc;
            Kernel12x32Vector512(k, pair, pair + Mr * kcp, b, b + Nr, ldb, tile, ldc, true, null, false);
        }
    }

    /// <summary>
    /// Packs Aᵀ for a k × m row-major <paramref name="a"/> (row stride <paramref name="lda"/>) whole into 6-row, k-major
    /// panels: panel[p·6 + r] = a[p·lda + i + r] for panel i, zero-padded like <see cref="PackAPanels"/>.
    /// </summary>
    internal static void PackAPanelsTransposed(float* a, int lda, int m, int k, float* dst) => PackA(true, a, lda, 0, m, 0, k, (k + 3) & ~3, dst);

    /// <summary>Rows <paramref name="ir0"/>..mc of one 16-column B panel through the 6×16 kernels (edge tiles via a scratch tile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelRows(int ir0, int mc, int nr, int kcp, bool transposeA, bool inPlaceA, bool wide, float* pa0, int lda, int pc, int ic,
        float* packedA, float* bPanel, float* cColumn, int ldc, bool acc, float* epilogue, bool rectify, float* tile)
    {
        for (int ir = ir0; ir < mc; ir += Mr)
        {
            int mr = Math.Min(Mr, mc - ir);
            float* cTile = cColumn + (long)(ic + ir) * ldc;
            float* cTarget = nr == Nr ? cTile : tile;
            int ldTarget = nr == Nr ? ldc : Nr;
            bool accTarget = nr == Nr && acc;
            if (inPlaceA && mr == Mr)
            {
                if (transposeA)
                    Kernel6x16(kcp, pa0 + (long)pc * lda + ic + ir, lda, bPanel, cTarget, ldTarget, accTarget, nr == Nr ? epilogue : null, nr == Nr && rectify);
                else
                    KernelRows6x16(kcp, pa0 + (long)(ic + ir) * lda + pc, lda, bPanel, cTarget, ldTarget, accTarget, nr == Nr ? epilogue : null, nr == Nr && rectify);
            }
            else
            {
                float* aPanel = packedA + PackedPanelOffset(ir, mc, kcp, inPlaceA, wide);
                if (mr == Mr && nr == Nr)
                {
                    PackedTile6x16(kcp, aPanel, bPanel, cTile, ldc, acc, epilogue, rectify);
                    continue;
                }
                PackedTile6x16(kcp, aPanel, bPanel, tile, Nr, false, null, false);
                MergeTile(tile, Nr, cTile, ldc, mr, nr, acc, epilogue, rectify);
                continue;
            }
            if (nr != Nr) MergeTile(tile, Nr, cTile, ldc, mr, nr, acc, epilogue, rectify);
        }
    }

    /// <summary>
    /// The first row of an M block of <paramref name="mc"/> rows that is packed when A is read in place: the rows the
    /// in-place kernels do not take (the ragged last 6-row panel; with AVX-512 every row after the 12-row pairs).
    /// </summary>
    private static int InPlacePackedFrom(int mc, bool wide) => wide ? mc / (2 * Mr) * (2 * Mr) : mc / Mr * Mr;

    /// <summary>Where the packed panel of row <paramref name="ir"/> starts in the block's packed A.</summary>
    private static int PackedPanelOffset(int ir, int mc, int kcp, bool inPlaceA, bool wide)
        => ((ir - (inPlaceA ? InPlacePackedFrom(mc, wide) : 0)) / Mr) * Mr * kcp;

    /// <summary>The 6×16 tile over a packed A panel: Vector256 FMAs on x64, Vector128 on ARM64 (same sums, same order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackedTile6x16(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        if (Fma.IsSupported) Kernel6x16(kc, a, Mr, b, c, ldc, accumulate, bias, relu);
        else Kernel6x16Vector128(kc, a, b, c, ldc, accumulate, bias, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTile(float* tile, int ldt, float* c, int ldc, int mr, int nr, bool accumulate, float* bias, bool relu)
    {
        // Whole vectors where the row allows, read at the width the kernel stored them (a narrower read of a wider
        // store that is still in flight cannot be forwarded and waits for it); the same operations, in the same
        // order, as the kernels' own epilogue.
        for (int i = 0; i < mr; i++)
        {
            float* src = tile + i * ldt;
            float* dst = c + (long)i * ldc;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= nr; j += 16)
                {
                    Vector512<float> v = Vector512.Load(src + j);
                    if (accumulate) v += Vector512.Load(dst + j);
                    if (bias != null) v += Vector512.Load(bias + j);
                    if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                    v.Store(dst + j);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= nr; j += 8)
                {
                    Vector256<float> v = Vector256.Load(src + j);
                    if (accumulate) v += Vector256.Load(dst + j);
                    if (bias != null) v += Vector256.Load(bias + j);
                    if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                    v.Store(dst + j);
                }
            }
            for (; j + 4 <= nr; j += 4)
            {
                Vector128<float> v = Vector128.Load(src + j);
                if (accumulate) v += Vector128.Load(dst + j);
                if (bias != null) v += Vector128.Load(bias + j);
                if (relu) v = Vector128.Max(v, Vector128<float>.Zero);
                v.Store(dst + j);
            }
            for (; j < nr; j++)
            {
                float v = accumulate ? src[j] + dst[j] : src[j];
                if (bias != null) v += bias[j];
                dst[j] = relu ? MathF.Max(v, 0f) : v;
            }
        }
    }

    /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] into 6-row micro-panels, k-major (panel[p·6 + r]), zero-padded to kcp and to whole panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(bool transposeA, float* a, int lda, int ic, int mc, int pc, int kc, int kcp, float* dst)
    {
        for (int ir = 0; ir < mc; ir += Mr)
        {
            int mr = Math.Min(Mr, mc - ir);
            float* panel = dst + (ir / Mr) * Mr * kcp;
            if (transposeA)
            {
                // A is stored k×m: row p of A holds op(A)[·, p] contiguously.
                if (mr == Mr && Sse2.IsSupported)
                {
                    // Six contiguous floats per k: one 16-byte and one 8-byte copy.
                    float* src = a + (long)pc * lda + ic + ir;
                    for (int p = 0; p < kc; p++, src += lda)
                    {
                        Sse.Store(panel + p * Mr, Sse.LoadVector128(src));
                        *(double*)(panel + p * Mr + 4) = *(double*)(src + 4);
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = a + (long)(pc + p) * lda + ic + ir;
                        float* d = panel + p * Mr;
                        int r = 0;
                        for (; r < mr; r++) d[r] = src[r];
                        for (; r < Mr; r++) d[r] = 0f;
                    }
                }
            }
            else if (mr == Mr && Sse.IsSupported)
            {
                PackRows6(a + (long)(ic + ir) * lda + pc, lda, kc, panel);
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

    /// <summary>
    /// Six rows of a row-major A (row stride <paramref name="lda"/>) into one k-major panel, panel[p·6 + r] = a[r·lda + p]:
    /// four k at a time, rows 0–3 transposed 4×4 in registers and rows 4–5 interleaved in pairs, then the k mod 4 tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackRows6(float* a, int lda, int kc, float* panel)
    {
        float* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            Vector128<float> r0 = Sse.LoadVector128(a + p), r1 = Sse.LoadVector128(a1 + p), r2 = Sse.LoadVector128(a2 + p);
            Vector128<float> r3 = Sse.LoadVector128(a3 + p), r4 = Sse.LoadVector128(a4 + p), r5 = Sse.LoadVector128(a5 + p);
            Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackHigh(r0, r1), t2 = Sse.UnpackLow(r2, r3), t3 = Sse.UnpackHigh(r2, r3);
            Vector128<double> u0 = Sse.UnpackLow(r4, r5).AsDouble(), u1 = Sse.UnpackHigh(r4, r5).AsDouble();
            float* d = panel + p * Mr;
            Sse.Store(d, Sse.MoveLowToHigh(t0, t2));
            *(double*)(d + 4) = u0.ToScalar();
            Sse.Store(d + 6, Sse.MoveHighToLow(t2, t0));
            *(double*)(d + 10) = u0.GetElement(1);
            Sse.Store(d + 12, Sse.MoveLowToHigh(t1, t3));
            *(double*)(d + 16) = u1.ToScalar();
            Sse.Store(d + 18, Sse.MoveHighToLow(t3, t1));
            *(double*)(d + 22) = u1.GetElement(1);
        }
        for (; p < kc; p++)
        {
            float* d = panel + p * Mr;
            d[0] = a[p]; d[1] = a1[p]; d[2] = a2[p]; d[3] = a3[p]; d[4] = a4[p]; d[5] = a5[p];
        }
    }

    /// <summary>Packs op(B)[pc..pc+kc, 0..n] into 16-column micro-panels, k-major (panel[p·16 + j]), zero-padded to kcp and to whole panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(bool transposeB, float* b, int ldb, int pc, int kc, int kcp, int n, float* dst)
    {
        for (int jr = 0; jr < n; jr += Nr)
        {
            int nr = Math.Min(Nr, n - jr);
            float* panel = dst + (jr / Nr) * Nr * kcp;
            if (transposeB)
            {
                // B is stored n×k: row j of B holds op(B)[·, j] contiguously. Whole 8×8 blocks are transposed in registers.
                int p8 = nr == Nr && Avx.IsSupported ? kc & ~7 : 0;
                for (int half = 0; p8 > 0 && half < 2; half++)
                {
                    float* src = b + (long)(jr + half * 8) * ldb + pc;
                    for (int p = 0; p < p8; p += 8) Transpose8x8(src + p, ldb, panel + p * Nr + half * 8, Nr);
                }
                for (int j = 0; j < nr; j++)
                {
                    float* src = b + (long)(jr + j) * ldb + pc;
                    for (int p = p8; p < kc; p++) panel[p * Nr + j] = src[p];
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
                    if (nr == Nr && Vector256.IsHardwareAccelerated)
                    {
                        Vector256.Store(Vector256.Load(src), d);
                        Vector256.Store(Vector256.Load(src + 8), d + 8);
                    }
                    else if (nr == Nr)
                    {
                        Vector128.Store(Vector128.Load(src), d);
                        Vector128.Store(Vector128.Load(src + 4), d + 4);
                        Vector128.Store(Vector128.Load(src + 8), d + 8);
                        Vector128.Store(Vector128.Load(src + 12), d + 12);
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
    /// The 6×16 register tile: C[0..6, 0..16] (+)= Σₚ A(r, p) · b[p·16 + j] over a packed B panel, kc a multiple of 4,
    /// where A(r, p) = a[p·aStride + r] (a packed A panel has aStride 6; a transposed A read in place has aStride = lda).
    /// Twelve Vector256 accumulators, two B vectors and one broadcast per row; one hot loop, unrolled ×4 by hand.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, int aStride, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint s1 = aStride, s2 = 2 * (nint)aStride, s3 = 3 * (nint)aStride, s4 = 4 * (nint)aStride;
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<float> b0, b1, av;
            b0 = Avx.LoadVector256(b + 0); b1 = Avx.LoadVector256(b + 8);
            av = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 16); b1 = Avx.LoadVector256(b + 24);
            av = Vector256.Create(a[s1 + 0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[s1 + 1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[s1 + 2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[s1 + 3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[s1 + 4]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[s1 + 5]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 32); b1 = Avx.LoadVector256(b + 40);
            av = Vector256.Create(a[s2 + 0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[s2 + 1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[s2 + 2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[s2 + 3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[s2 + 4]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[s2 + 5]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 48); b1 = Avx.LoadVector256(b + 56);
            av = Vector256.Create(a[s3 + 0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[s3 + 1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[s3 + 2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[s3 + 3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[s3 + 4]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[s3 + 5]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += s4;
            b += 64;
        }
        StoreTile(c, ldc, accumulate, bias, relu, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>
    /// The 6×16 tile for ARM64 (AdvSimd): C[0..6, 0..16] (+)= Σₚ a[p·6 + r] · b[p·16 + j] over packed A and B panels, in
    /// 24 Vector128 accumulators (ARM64 has 32 vector registers), four B vectors and one broadcast per row per k. Each
    /// element is the same chain of fused multiply-adds over p as in <see cref="Kernel6x16"/>, so x64 and ARM64 agree bitwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16Vector128(int kc, float* a, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector128<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector128<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        Vector128<float> c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4), b2 = Vector128.Load(b + 8), b3 = Vector128.Load(b + 12), av;
            av = Vector128.Create(a[0]);
            c00 = Vector128.FusedMultiplyAdd(av, b0, c00); c01 = Vector128.FusedMultiplyAdd(av, b1, c01); c02 = Vector128.FusedMultiplyAdd(av, b2, c02); c03 = Vector128.FusedMultiplyAdd(av, b3, c03);
            av = Vector128.Create(a[1]);
            c10 = Vector128.FusedMultiplyAdd(av, b0, c10); c11 = Vector128.FusedMultiplyAdd(av, b1, c11); c12 = Vector128.FusedMultiplyAdd(av, b2, c12); c13 = Vector128.FusedMultiplyAdd(av, b3, c13);
            av = Vector128.Create(a[2]);
            c20 = Vector128.FusedMultiplyAdd(av, b0, c20); c21 = Vector128.FusedMultiplyAdd(av, b1, c21); c22 = Vector128.FusedMultiplyAdd(av, b2, c22); c23 = Vector128.FusedMultiplyAdd(av, b3, c23);
            av = Vector128.Create(a[3]);
            c30 = Vector128.FusedMultiplyAdd(av, b0, c30); c31 = Vector128.FusedMultiplyAdd(av, b1, c31); c32 = Vector128.FusedMultiplyAdd(av, b2, c32); c33 = Vector128.FusedMultiplyAdd(av, b3, c33);
            av = Vector128.Create(a[4]);
            c40 = Vector128.FusedMultiplyAdd(av, b0, c40); c41 = Vector128.FusedMultiplyAdd(av, b1, c41); c42 = Vector128.FusedMultiplyAdd(av, b2, c42); c43 = Vector128.FusedMultiplyAdd(av, b3, c43);
            av = Vector128.Create(a[5]);
            c50 = Vector128.FusedMultiplyAdd(av, b0, c50); c51 = Vector128.FusedMultiplyAdd(av, b1, c51); c52 = Vector128.FusedMultiplyAdd(av, b2, c52); c53 = Vector128.FusedMultiplyAdd(av, b3, c53);
            a += 6;
            b += 16;
        }
        StoreRow128(c, accumulate, bias, relu, c00, c01, c02, c03); c += ldc;
        StoreRow128(c, accumulate, bias, relu, c10, c11, c12, c13); c += ldc;
        StoreRow128(c, accumulate, bias, relu, c20, c21, c22, c23); c += ldc;
        StoreRow128(c, accumulate, bias, relu, c30, c31, c32, c33); c += ldc;
        StoreRow128(c, accumulate, bias, relu, c40, c41, c42, c43); c += ldc;
        StoreRow128(c, accumulate, bias, relu, c50, c51, c52, c53);
    }

    /// <summary>One 16-float row of a tile: (+ C) (+ bias), then max(·, 0) when <paramref name="relu"/>, in the order of <see cref="StoreTile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow128(float* c, bool accumulate, float* bias, bool relu, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(c); v1 += Vector128.Load(c + 4); v2 += Vector128.Load(c + 8); v3 += Vector128.Load(c + 12);
        }
        if (bias != null)
        {
            v0 += Vector128.Load(bias); v1 += Vector128.Load(bias + 4); v2 += Vector128.Load(bias + 8); v3 += Vector128.Load(bias + 12);
        }
        if (relu)
        {
            v0 = Vector128.Max(v0, Vector128<float>.Zero); v1 = Vector128.Max(v1, Vector128<float>.Zero);
            v2 = Vector128.Max(v2, Vector128<float>.Zero); v3 = Vector128.Max(v3, Vector128<float>.Zero);
        }
        Vector128.Store(v0, c); Vector128.Store(v1, c + 4); Vector128.Store(v2, c + 8); Vector128.Store(v3, c + 12);
    }

    /// <summary>
    /// The 6×16 tile with A read in place from row-major storage: A(r, p) = a[r·lda + p], six rows walked together.
    /// Same arithmetic, order and register use as <see cref="Kernel6x16"/>; kc a multiple of 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void KernelRows6x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint r1 = lda, r2 = 2 * (nint)lda, r3 = 3 * (nint)lda, r4 = 4 * (nint)lda, r5 = 5 * (nint)lda;
        for (int p = 0; p < kc; p += 4)
        {
            Vector256<float> b0, b1, av;
            b0 = Avx.LoadVector256(b + 0); b1 = Avx.LoadVector256(b + 8);
            av = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[r1 + 0]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[r2 + 0]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[r3 + 0]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[r4 + 0]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[r5 + 0]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 16); b1 = Avx.LoadVector256(b + 24);
            av = Vector256.Create(a[1]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[r1 + 1]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[r2 + 1]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[r3 + 1]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[r4 + 1]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[r5 + 1]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 32); b1 = Avx.LoadVector256(b + 40);
            av = Vector256.Create(a[2]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[r1 + 2]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[r2 + 2]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[r3 + 2]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[r4 + 2]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[r5 + 2]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            b0 = Avx.LoadVector256(b + 48); b1 = Avx.LoadVector256(b + 56);
            av = Vector256.Create(a[3]); c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[r1 + 3]); c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[r2 + 3]); c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[r3 + 3]); c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[r4 + 3]); c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[r5 + 3]); c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += 4;
            b += 64;
        }
        StoreTile(c, ldc, accumulate, bias, relu, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>C = acc (+ C when accumulating) (+ bias when given, one value per column), then max(·, 0) when <paramref name="relu"/>: the tile's epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile(float* c, int ldc, bool accumulate, float* bias, bool relu,
        Vector256<float> c00, Vector256<float> c01, Vector256<float> c10, Vector256<float> c11, Vector256<float> c20, Vector256<float> c21,
        Vector256<float> c30, Vector256<float> c31, Vector256<float> c40, Vector256<float> c41, Vector256<float> c50, Vector256<float> c51)
    {
        if (accumulate)
        {
            c00 += Load(c); c01 += Load(c + 8);
            c10 += Load(c + ldc); c11 += Load(c + ldc + 8);
            c20 += Load(c + 2 * ldc); c21 += Load(c + 2 * ldc + 8);
            c30 += Load(c + 3 * ldc); c31 += Load(c + 3 * ldc + 8);
            c40 += Load(c + 4 * ldc); c41 += Load(c + 4 * ldc + 8);
            c50 += Load(c + 5 * ldc); c51 += Load(c + 5 * ldc + 8);
        }
        if (bias != null)
        {
            Vector256<float> b0 = Load(bias), b1 = Load(bias + 8);
            c00 += b0; c01 += b1; c10 += b0; c11 += b1; c20 += b0; c21 += b1;
            c30 += b0; c31 += b1; c40 += b0; c41 += b1; c50 += b0; c51 += b1;
        }
        if (relu)
        {
            Vector256<float> z = Vector256<float>.Zero;
            c00 = Vector256.Max(c00, z); c01 = Vector256.Max(c01, z); c10 = Vector256.Max(c10, z); c11 = Vector256.Max(c11, z);
            c20 = Vector256.Max(c20, z); c21 = Vector256.Max(c21, z); c30 = Vector256.Max(c30, z); c31 = Vector256.Max(c31, z);
            c40 = Vector256.Max(c40, z); c41 = Vector256.Max(c41, z); c50 = Vector256.Max(c50, z); c51 = Vector256.Max(c51, z);
        }
        Store(c, c00, c01); c += ldc;
        Store(c, c10, c11); c += ldc;
        Store(c, c20, c21); c += ldc;
        Store(c, c30, c31); c += ldc;
        Store(c, c40, c41); c += ldc;
        Store(c, c50, c51);
    }

    /// <summary>
    /// Whether GEMMs use the 12×16 Vector512 kernel: on by default only where 512-bit FMAs measurably do twice the work of
    /// 256-bit ones (<see cref="SimdProbe"/>; not on Zen 4, which splits them in two). Tests force it on to check it.
    /// </summary>
    internal static bool Vector512Enabled { get; set; } = SimdProbe.Vector512FmaPays();

    /// <summary>
    /// The 12×16 tile for AVX-512: C[0..12, 0..16] (+)= Σₚ A(r, p) · b[p·16 + j], rows 0–5 from packed panel
    /// <paramref name="a0"/> and rows 6–11 from <paramref name="a1"/> (stride 6), one Vector512 B load and twelve
    /// accumulators per k; kc a multiple of 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x16Vector512(int kc, float* a0, float* a1, float* b, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> bv = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[0]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[1]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[2]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[3]), bv, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[4]), bv, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[5]), bv, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[0]), bv, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[1]), bv, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[2]), bv, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[3]), bv, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[4]), bv, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[5]), bv, c11);
            a0 += 6;
            a1 += 6;
            b += 16;
        }
        Store512(c, accumulate, bias, relu, c0); c += ldc;
        Store512(c, accumulate, bias, relu, c1); c += ldc;
        Store512(c, accumulate, bias, relu, c2); c += ldc;
        Store512(c, accumulate, bias, relu, c3); c += ldc;
        Store512(c, accumulate, bias, relu, c4); c += ldc;
        Store512(c, accumulate, bias, relu, c5); c += ldc;
        Store512(c, accumulate, bias, relu, c6); c += ldc;
        Store512(c, accumulate, bias, relu, c7); c += ldc;
        Store512(c, accumulate, bias, relu, c8); c += ldc;
        Store512(c, accumulate, bias, relu, c9); c += ldc;
        Store512(c, accumulate, bias, relu, c10); c += ldc;
        Store512(c, accumulate, bias, relu, c11);
    }

    /// <summary>
    /// The 12×32 tile for AVX-512: C[0..12, 0..32] (+)= Σₚ A(r, p) · [b0 | b1][p, j], rows from packed panels
    /// <paramref name="a0"/> and <paramref name="a1"/> (stride 6), columns from two consecutive packed B panels; per k two
    /// Vector512 B loads, twelve broadcasts and 24 FMAs. Each element is summed over p in the same order as in the
    /// 12×16 and 6×16 kernels, so all three give bitwise-equal results.
    /// </summary>
    /// <remarks>
    /// B's rows are <paramref name="ldb"/> apart; with a <paramref name="walk"/>, after each run of rows (the first
    /// <see cref="RowWalk.FirstRun"/> long, then <see cref="RowWalk.RunLength"/>) B also skips
    /// <see cref="RowWalk.Skip"/> floats: a convolution's input read in place, one output row per run.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32Vector512(int kc, float* a0, float* a1, float* b0, float* b1, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu,
        RowWalk walk = default, int aStep = Mr)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        Vector512<float> d6 = default, d7 = default, d8 = default, d9 = default, d10 = default, d11 = default;
        int run = walk.RunLength == 0 ? kc : walk.FirstRun;
        for (int done = 0; done < kc; done += run, run = walk.RunLength, b0 += walk.Skip, b1 += walk.Skip)
        for (int p = 0, end = Math.Min(run, kc - done); p < end; p++)
        {
            Vector512<float> u = Vector512.Load(b0), v = Vector512.Load(b1), a;
            a = Vector512.Create(a0[0]); c0 = Vector512.FusedMultiplyAdd(a, u, c0); d0 = Vector512.FusedMultiplyAdd(a, v, d0);
            a = Vector512.Create(a0[1]); c1 = Vector512.FusedMultiplyAdd(a, u, c1); d1 = Vector512.FusedMultiplyAdd(a, v, d1);
            a = Vector512.Create(a0[2]); c2 = Vector512.FusedMultiplyAdd(a, u, c2); d2 = Vector512.FusedMultiplyAdd(a, v, d2);
            a = Vector512.Create(a0[3]); c3 = Vector512.FusedMultiplyAdd(a, u, c3); d3 = Vector512.FusedMultiplyAdd(a, v, d3);
            a = Vector512.Create(a0[4]); c4 = Vector512.FusedMultiplyAdd(a, u, c4); d4 = Vector512.FusedMultiplyAdd(a, v, d4);
            a = Vector512.Create(a0[5]); c5 = Vector512.FusedMultiplyAdd(a, u, c5); d5 = Vector512.FusedMultiplyAdd(a, v, d5);
            a = Vector512.Create(a1[0]); c6 = Vector512.FusedMultiplyAdd(a, u, c6); d6 = Vector512.FusedMultiplyAdd(a, v, d6);
            a = Vector512.Create(a1[1]); c7 = Vector512.FusedMultiplyAdd(a, u, c7); d7 = Vector512.FusedMultiplyAdd(a, v, d7);
            a = Vector512.Create(a1[2]); c8 = Vector512.FusedMultiplyAdd(a, u, c8); d8 = Vector512.FusedMultiplyAdd(a, v, d8);
            a = Vector512.Create(a1[3]); c9 = Vector512.FusedMultiplyAdd(a, u, c9); d9 = Vector512.FusedMultiplyAdd(a, v, d9);
            a = Vector512.Create(a1[4]); c10 = Vector512.FusedMultiplyAdd(a, u, c10); d10 = Vector512.FusedMultiplyAdd(a, v, d10);
            a = Vector512.Create(a1[5]); c11 = Vector512.FusedMultiplyAdd(a, u, c11); d11 = Vector512.FusedMultiplyAdd(a, v, d11);
            a0 += aStep;
            a1 += aStep;
            b0 += ldb;
            b1 += ldb;
        }
        Store12x32(c, ldc, accumulate, bias, relu, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11);
    }

    /// <summary>The stores of a 12×32 tile: row r of C takes cr in its first 16 columns and dr in the next 16, with the epilogue of <see cref="Store512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store12x32(float* c, int ldc, bool accumulate, float* bias, bool relu,
        Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, Vector512<float> c4, Vector512<float> c5,
        Vector512<float> c6, Vector512<float> c7, Vector512<float> c8, Vector512<float> c9, Vector512<float> c10, Vector512<float> c11,
        Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
        Vector512<float> d6, Vector512<float> d7, Vector512<float> d8, Vector512<float> d9, Vector512<float> d10, Vector512<float> d11)
    {
        StoreRow32(c, accumulate, bias, relu, c0, d0); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c1, d1); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c2, d2); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c3, d3); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c4, d4); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c5, d5); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c6, d6); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c7, d7); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c8, d8); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c9, d9); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c10, d10); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c11, d11);
    }

    /// <summary>
    /// <see cref="Kernel12x32Vector512"/> over twelve rows of a row-major A read in place (rows <paramref name="lda"/>
    /// apart, k along each row): the same broadcasts, FMAs and stores in the same order, so the same bits as over the
    /// packed panels, without packing them. Rows are addressed from three bases four rows apart with offsets of 1, 2
    /// and 3 rows, which x64 addressing modes reach without a register per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void KernelRows12x32Vector512(int kc, float* a, int lda, float* b0, float* b1, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        Vector512<float> d6 = default, d7 = default, d8 = default, d9 = default, d10 = default, d11 = default;
        nint row = lda, row2 = 2 * (nint)lda, row3 = 3 * (nint)lda;
        float* r0 = a, r4 = a + 4 * row, r8 = a + 8 * row;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> u = Vector512.Load(b0), v = Vector512.Load(b1), x;
            x = Vector512.Create(r0[0]); c0 = Vector512.FusedMultiplyAdd(x, u, c0); d0 = Vector512.FusedMultiplyAdd(x, v, d0);
            x = Vector512.Create(r0[row]); c1 = Vector512.FusedMultiplyAdd(x, u, c1); d1 = Vector512.FusedMultiplyAdd(x, v, d1);
            x = Vector512.Create(r0[row2]); c2 = Vector512.FusedMultiplyAdd(x, u, c2); d2 = Vector512.FusedMultiplyAdd(x, v, d2);
            x = Vector512.Create(r0[row3]); c3 = Vector512.FusedMultiplyAdd(x, u, c3); d3 = Vector512.FusedMultiplyAdd(x, v, d3);
            x = Vector512.Create(r4[0]); c4 = Vector512.FusedMultiplyAdd(x, u, c4); d4 = Vector512.FusedMultiplyAdd(x, v, d4);
            x = Vector512.Create(r4[row]); c5 = Vector512.FusedMultiplyAdd(x, u, c5); d5 = Vector512.FusedMultiplyAdd(x, v, d5);
            x = Vector512.Create(r4[row2]); c6 = Vector512.FusedMultiplyAdd(x, u, c6); d6 = Vector512.FusedMultiplyAdd(x, v, d6);
            x = Vector512.Create(r4[row3]); c7 = Vector512.FusedMultiplyAdd(x, u, c7); d7 = Vector512.FusedMultiplyAdd(x, v, d7);
            x = Vector512.Create(r8[0]); c8 = Vector512.FusedMultiplyAdd(x, u, c8); d8 = Vector512.FusedMultiplyAdd(x, v, d8);
            x = Vector512.Create(r8[row]); c9 = Vector512.FusedMultiplyAdd(x, u, c9); d9 = Vector512.FusedMultiplyAdd(x, v, d9);
            x = Vector512.Create(r8[row2]); c10 = Vector512.FusedMultiplyAdd(x, u, c10); d10 = Vector512.FusedMultiplyAdd(x, v, d10);
            x = Vector512.Create(r8[row3]); c11 = Vector512.FusedMultiplyAdd(x, u, c11); d11 = Vector512.FusedMultiplyAdd(x, v, d11);
            r0++;
            r4++;
            r8++;
            b0 += ldb;
            b1 += ldb;
        }
        Store12x32(c, ldc, accumulate, bias, relu, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11);
    }

    /// <summary>
    /// The 6×32 tile for AVX-512: one packed 6-row A panel against two consecutive packed B panels, twelve accumulators;
    /// for the single 6-row panel left after the 12-row pairs. Same summation order as the other kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x32Vector512(int kc, float* a0, float* b0, float* b1, int ldb, float* c, int ldc, bool accumulate, float* bias, bool relu,
        RowWalk walk = default)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        int run = walk.RunLength == 0 ? kc : walk.FirstRun;
        for (int done = 0; done < kc; done += run, run = walk.RunLength, b0 += walk.Skip, b1 += walk.Skip)
        for (int p = 0, end = Math.Min(run, kc - done); p < end; p++)
        {
            Vector512<float> u = Vector512.Load(b0), v = Vector512.Load(b1), a;
            a = Vector512.Create(a0[0]); c0 = Vector512.FusedMultiplyAdd(a, u, c0); d0 = Vector512.FusedMultiplyAdd(a, v, d0);
            a = Vector512.Create(a0[1]); c1 = Vector512.FusedMultiplyAdd(a, u, c1); d1 = Vector512.FusedMultiplyAdd(a, v, d1);
            a = Vector512.Create(a0[2]); c2 = Vector512.FusedMultiplyAdd(a, u, c2); d2 = Vector512.FusedMultiplyAdd(a, v, d2);
            a = Vector512.Create(a0[3]); c3 = Vector512.FusedMultiplyAdd(a, u, c3); d3 = Vector512.FusedMultiplyAdd(a, v, d3);
            a = Vector512.Create(a0[4]); c4 = Vector512.FusedMultiplyAdd(a, u, c4); d4 = Vector512.FusedMultiplyAdd(a, v, d4);
            a = Vector512.Create(a0[5]); c5 = Vector512.FusedMultiplyAdd(a, u, c5); d5 = Vector512.FusedMultiplyAdd(a, v, d5);
            a0 += 6;
            b0 += ldb;
            b1 += ldb;
        }
        StoreRow32(c, accumulate, bias, relu, c0, d0); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c1, d1); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c2, d2); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c3, d3); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c4, d4); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c5, d5);
    }

    /// <summary>
    /// A 4×32 tile for AVX-512 over four rows of A read in place, element (r, p) at a + r·<paramref name="rowStep"/> +
    /// p·<paramref name="kStep"/> (a row-major A: lda and 1; a transposed one: 1 and lda), against two 16-column B panels:
    /// eight accumulators, the same broadcasts, FMAs and stores per row as the 6×32 and 12×32 kernels, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x32Vector512(int kc, float* a, nint rowStep, nint kStep, float* b0, float* b1, int ldb, float* c, int ldc,
        bool accumulate, float* bias, bool relu)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
        nint row2 = 2 * rowStep, row3 = 3 * rowStep;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> u = Vector512.Load(b0), v = Vector512.Load(b1), x;
            x = Vector512.Create(a[0]); c0 = Vector512.FusedMultiplyAdd(x, u, c0); d0 = Vector512.FusedMultiplyAdd(x, v, d0);
            x = Vector512.Create(a[rowStep]); c1 = Vector512.FusedMultiplyAdd(x, u, c1); d1 = Vector512.FusedMultiplyAdd(x, v, d1);
            x = Vector512.Create(a[row2]); c2 = Vector512.FusedMultiplyAdd(x, u, c2); d2 = Vector512.FusedMultiplyAdd(x, v, d2);
            x = Vector512.Create(a[row3]); c3 = Vector512.FusedMultiplyAdd(x, u, c3); d3 = Vector512.FusedMultiplyAdd(x, v, d3);
            a += kStep;
            b0 += ldb;
            b1 += ldb;
        }
        StoreRow32(c, accumulate, bias, relu, c0, d0); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c1, d1); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c2, d2); c += ldc;
        StoreRow32(c, accumulate, bias, relu, c3, d3);
    }

    /// <summary>
    /// How B's rows are walked by <see cref="MultiplyRowRuns"/>: <see cref="FirstRun"/> rows, then runs of
    /// <see cref="RunLength"/>, skipping <see cref="Skip"/> floats after each run (the default: one run, no skip).
    /// </summary>
    internal readonly record struct RowWalk(int FirstRun, int RunLength, int Skip);

    /// <summary>One row of a 32-column tile: <paramref name="low"/> into its first 16 columns and <paramref name="high"/> into the next 16, each with <see cref="Store512"/>'s epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow32(float* c, bool accumulate, float* bias, bool relu, Vector512<float> low, Vector512<float> high)
    {
        Store512(c, accumulate, bias, relu, low);
        Store512(c + 16, accumulate, bias == null ? null : bias + 16, relu, high);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, bool accumulate, float* bias, bool relu, Vector512<float> value)
    {
        if (accumulate) value += Vector512.Load(c);
        if (bias != null) value += Vector512.Load(bias);
        if (relu) value = Vector512.Max(value, Vector512<float>.Zero);
        Vector512.Store(value, c);
    }

    /// <summary>dst[q·ldd + r] = src[r·lds + q] for r, q in 0..8: the classic AVX 8×8 transpose (unpack, shuffle, lane permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
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
