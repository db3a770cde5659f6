using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>
/// Where the tiles of a stride-1 3 × 3 convolution lie for Winograd's F(2×2, 3×3): the output is cut into 2 × 2 tiles,
/// each computed from a 4 × 4 tile of the (virtually zero-padded) input; tiles step by 2.
/// </summary>
/// <remarks>
/// The input planes are kept split into their even and odd columns (<see cref="WinogradKernels.SplitPlane"/>):
/// <c>even[r, i] = x̂[r, 2i]</c>, <c>odd[r, i] = x̂[r, 2i + 1]</c> with x̂ the padded input, so every transform reads
/// consecutive tiles with unit-stride vector loads. Tiles are cut into groups of whole tile rows, a group at a time going
/// through the 16 matrix products; a group is the same for every thread count.
/// </remarks>
internal readonly struct WinogradGeometry
{
    /// <summary>Most tiles in a group: a group's transformed input and products stay in L2.</summary>
    private const int MaxGroupTiles = 192;

    public WinogradGeometry(int channels, int height, int width, int padding)
    {
        Channels = channels;
        Height = height;
        Width = width;
        Padding = padding;
        OutputHeight = height + 2 * padding - 2;
        OutputWidth = width + 2 * padding - 2;
        TilesY = (OutputHeight + 1) / 2;
        TilesX = (OutputWidth + 1) / 2;
        RowTiles = (TilesX + 3) & ~3;
        Rows = 2 * TilesY + 2;
        Half = RowTiles + 4;
        // The matrix products run on whole 16-column panels (a ragged panel costs as much as several whole ones), so
        // the group size is the one wasting the fewest columns, the larger on a tie.
        int best = 1, bestWaste = int.MaxValue;
        for (int rows = 1; rows <= TilesY && (rows == 1 || rows * RowTiles <= MaxGroupTiles); rows++)
        {
            int full = TilesY / rows, rest = TilesY % rows;
            int waste = full * (Columns(rows) - rows * TilesX) + (rest == 0 ? 0 : Columns(rest) - rest * TilesX);
            if (waste <= bestWaste) (best, bestWaste) = (rows, waste);
        }
        RowsPerGroup = best;
        MaxColumns = Columns(best);
        PanelStride = 16 * KPadded;
        VStride = OffAliasing((MaxColumns / 16) * PanelStride);
    }

    /// <summary>Columns of the matrix product for a group of <paramref name="tileRows"/> tile rows: whole 16-column panels.</summary>
    public int Columns(int tileRows) => (tileRows * RowTiles + 15) & ~15;

    /// <summary>Floats between the products of consecutive ξ with <paramref name="rows"/> rows of MaxColumns.</summary>
    public int MStride(int rows) => OffAliasing(rows * MaxColumns);

    /// <summary>
    /// <paramref name="floats"/>, plus 16 when that is an even number of 64-byte lines, so that the 16 streams a transform
    /// reads or writes (one per ξ) fall in different L1 sets instead of piling onto one (channel counts are usually powers of two).
    /// </summary>
    private static int OffAliasing(int floats) => (floats / 16) % 2 == 0 ? floats + 16 : floats;

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Padding { get; }
    public int OutputHeight { get; }
    public int OutputWidth { get; }
    public int TilesY { get; }
    public int TilesX { get; }

    /// <summary>Tiles per tile row as numbered in a group: TilesX rounded up to 4 (a vector of four tiles never straddles a panel).</summary>
    public int RowTiles { get; }

    /// <summary>Channels rounded up to 4: the K of the products, whose padding rows stay zero.</summary>
    public int KPadded => (Channels + 3) & ~3;

    /// <summary>Rows of a split plane: 2·TilesY + 2 (the last tile row reads four input rows).</summary>
    public int Rows { get; }

    /// <summary>Values per row of a split plane's even (or odd) half: RowTiles + 4.</summary>
    public int Half { get; }

    /// <summary>Floats of one split half-plane.</summary>
    public int Plane => Rows * Half;

    /// <summary>Tile rows per group.</summary>
    public int RowsPerGroup { get; }

    /// <summary>Columns of the largest group's product.</summary>
    public int MaxColumns { get; }

    /// <summary>Floats of one 16-tile panel of V[ξ]: 16 · KPadded.</summary>
    public int PanelStride { get; }

    /// <summary>Floats between V[ξ] and V[ξ + 1], each laid out as the products' B panels.</summary>
    public int VStride { get; }
}

/// <summary>
/// The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2016): a 2 × 2 output tile is
/// <c>Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A</c> for a 3 × 3 filter g and a 4 × 4 input tile d, 16 multiplies instead of 36.
/// Summed over input channels, each of the 16 products is a matrix product U[ξ]·V[ξ], which is where the time goes.
/// </summary>
/// <remarks>
/// <para><c>Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]</c>,
/// <c>G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]</c>, <c>Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]</c>.</para>
/// <para>V[ξ] is written in the B-panel layout of the matrix products and U[ξ] packed once per call, so the products pack nothing.
/// Tiles go four at a time in <see cref="Vector128{T}"/> lanes (SSE on x64, AdvSimd on ARM64, same arithmetic).</para>
/// </remarks>
internal static unsafe class WinogradKernels
{
    /// <summary>
    /// U[ξ = 4a + b][o, c] = (G w[o, c] Gᵀ)[a, b] for w of <paramref name="outChannels"/> × <paramref name="inChannels"/> × 3 × 3.
    /// </summary>
    public static void TransformWeights(ReadOnlySpan<float> w, int outChannels, int inChannels, Span<float> u)
    {
        int pairs = outChannels * inChannels;
        if (w.Length < pairs * 9 || u.Length < pairs * 16) throw new ArgumentException("TransformWeights: a span is too short.");
        Span<float> g = stackalloc float[9];
        Span<float> gg = stackalloc float[12];
        for (int o = 0; o < outChannels; o++)
        {
            for (int c = 0; c < inChannels; c++)
            {
                ReadOnlySpan<float> filter = w.Slice((o * inChannels + c) * 9, 9);
                filter.CopyTo(g);
                // G·g (4 × 3), then (G·g)·Gᵀ (4 × 4).
                for (int j = 0; j < 3; j++)
                {
                    float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                    gg[j] = g0;
                    gg[3 + j] = 0.5f * (g0 + g1 + g2);
                    gg[6 + j] = 0.5f * (g0 - g1 + g2);
                    gg[9 + j] = g2;
                }
                int index = o * inChannels + c;
                for (int a = 0; a < 4; a++)
                {
                    float r0 = gg[3 * a], r1 = gg[3 * a + 1], r2 = gg[3 * a + 2];
                    u[(4 * a) * pairs + index] = r0;
                    u[(4 * a + 1) * pairs + index] = 0.5f * (r0 + r1 + r2);
                    u[(4 * a + 2) * pairs + index] = 0.5f * (r0 - r1 + r2);
                    u[(4 * a + 3) * pairs + index] = r2;
                }
            }
        }
    }

    /// <summary>
    /// Splits one <paramref name="height"/> × <paramref name="width"/> plane, zero-padded by <paramref name="padding"/>
    /// on the top and left (and with zeros wherever rows or columns run past it), into <paramref name="rows"/> rows of
    /// even and odd columns: <c>even[r·half + i] = x̂[r, 2i]</c>, <c>odd[r·half + i] = x̂[r, 2i + 1]</c>, eight columns at
    /// a time; the eight that cross an edge of a row are read with masked loads (AVX), else through
    /// <paramref name="line"/> (8 floats of scratch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SplitPlane(float* x, int height, int width, int padding, int rows, int half, float* even, float* odd, float* line)
    {
        for (int r = 0; r < rows; r++)
        {
            float* e = even + (long)r * half, o = odd + (long)r * half;
            int iy = r - padding;
            if ((uint)iy >= (uint)height)
            {
                for (int i = 0; i < half; i += 4)
                {
                    Vector128<float>.Zero.Store(e + i);
                    Vector128<float>.Zero.Store(o + i);
                }
                continue;
            }
            // Column j of the padded row is src[j] for padding ≤ j < padding + width, else 0.
            float* src = x + (long)iy * width - padding;
            for (int i = 0; i < half; i += 4)
            {
                int j = 2 * i;
                Vector128<float> a, b;
                if (j >= padding && j + 8 <= padding + width)
                {
                    a = Vector128.Load(src + j);
                    b = Vector128.Load(src + j + 4);
                }
                else if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
                {
                    // Eight columns that cross an edge of the row: masked loads (lanes outside the row read nothing, give 0).
                    Vector128<uint> column = Vector128.Create((uint)(j - padding)) + Vector128.Create(0u, 1u, 2u, 3u), limit = Vector128.Create((uint)width);
                    a = System.Runtime.Intrinsics.X86.Avx.MaskLoad(src + j, Vector128.LessThan(column, limit).AsSingle());
                    b = System.Runtime.Intrinsics.X86.Avx.MaskLoad(src + j + 4, Vector128.LessThan(column + Vector128.Create(4u), limit).AsSingle());
                }
                else
                {
                    // The same through a zero-padded copy.
                    for (int t = 0; t < 8; t++) line[t] = (uint)(j + t - padding) < (uint)width ? src[j + t] : 0f;
                    a = Vector128.Load(line);
                    b = Vector128.Load(line + 4);
                }
                Interleave.Evens(a, b).Store(e + i);
                Interleave.Odds(a, b).Store(o + i);
            }
        }
    }

    /// <summary>
    /// V[ξ][c, t] = (Bᵀ d B)[ξ] for the 4 × 4 input tiles d of tile rows <paramref name="ty0"/>..<paramref name="ty1"/> of one
    /// split channel plane, tile t = (ty − ty0)·rowTiles + tx written straight into the 16-column panels the products
    /// read: <c>v[ξ·xiStride + (t / 16)·panelStride + c·16 + t % 16]</c>; <paramref name="v"/> points at c·16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputTransform(float* even, float* odd, int half, int ty0, int ty1, int tilesX, int rowTiles, float* v, long xiStride, int panelStride)
    {
        bool wide = Wide;
        for (int ty = ty0; ty < ty1; ty++)
        {
            float* e0 = even + (long)(2 * ty) * half, o0 = odd + (long)(2 * ty) * half;
            int row = (ty - ty0) * rowTiles;
            int tx = 0;
            for (; wide && tx < tilesX && tx + 8 <= rowTiles; tx += 8)
                InputTiles8(e0, o0, half, tx, v, row + tx, xiStride, panelStride);
            for (; tx < tilesX; tx += 4)
            {
                // Bᵀ·d along each of the four rows (columns 2tx..2tx+3 = even[tx], odd[tx], even[tx+1], odd[tx+1]).
                Row(e0, o0, tx, out var h00, out var h01, out var h02, out var h03);
                Row(e0 + half, o0 + half, tx, out var h10, out var h11, out var h12, out var h13);
                Row(e0 + 2 * half, o0 + 2 * half, tx, out var h20, out var h21, out var h22, out var h23);
                Row(e0 + 3 * half, o0 + 3 * half, tx, out var h30, out var h31, out var h32, out var h33);
                // Then down the columns: ξ = 4a + b.
                int t = row + tx;
                float* p = v + (long)(t >> 4) * panelStride + (t & 15);
                (h00 - h20).Store(p);
                (h01 - h21).Store(p + xiStride);
                (h02 - h22).Store(p + 2 * xiStride);
                (h03 - h23).Store(p + 3 * xiStride);
                (h10 + h20).Store(p + 4 * xiStride);
                (h11 + h21).Store(p + 5 * xiStride);
                (h12 + h22).Store(p + 6 * xiStride);
                (h13 + h23).Store(p + 7 * xiStride);
                (h20 - h10).Store(p + 8 * xiStride);
                (h21 - h11).Store(p + 9 * xiStride);
                (h22 - h12).Store(p + 10 * xiStride);
                (h23 - h13).Store(p + 11 * xiStride);
                (h10 - h30).Store(p + 12 * xiStride);
                (h11 - h31).Store(p + 13 * xiStride);
                (h12 - h32).Store(p + 14 * xiStride);
                (h13 - h33).Store(p + 15 * xiStride);
            }
        }
    }

    /// <summary>
    /// Eight tiles tx..tx + 7 of one tile row in <see cref="Vector256{T}"/> lanes, the same arithmetic per lane as the
    /// four-tile loop; tile t goes to panel t / 16, so each half of eight is stored where its four tiles belong.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTiles8(float* e0, float* o0, int half, int tx, float* v, int t, long xiStride, int panelStride)
    {
        Row8(e0, o0, tx, out var h00, out var h01, out var h02, out var h03);
        Row8(e0 + half, o0 + half, tx, out var h10, out var h11, out var h12, out var h13);
        Row8(e0 + 2 * half, o0 + 2 * half, tx, out var h20, out var h21, out var h22, out var h23);
        Row8(e0 + 3 * half, o0 + 3 * half, tx, out var h30, out var h31, out var h32, out var h33);
        float* p = v + (long)(t >> 4) * panelStride + (t & 15);
        int u = t + 4;
        // The upper four tiles: next to the lower ones inside a panel, else at the start of the next.
        long upper = (u >> 4) == (t >> 4) ? 4 : (long)(u >> 4) * panelStride + (u & 15) - ((long)(t >> 4) * panelStride + (t & 15));
        Store8(h00 - h20, p, upper);
        Store8(h01 - h21, p + xiStride, upper);
        Store8(h02 - h22, p + 2 * xiStride, upper);
        Store8(h03 - h23, p + 3 * xiStride, upper);
        Store8(h10 + h20, p + 4 * xiStride, upper);
        Store8(h11 + h21, p + 5 * xiStride, upper);
        Store8(h12 + h22, p + 6 * xiStride, upper);
        Store8(h13 + h23, p + 7 * xiStride, upper);
        Store8(h20 - h10, p + 8 * xiStride, upper);
        Store8(h21 - h11, p + 9 * xiStride, upper);
        Store8(h22 - h12, p + 10 * xiStride, upper);
        Store8(h23 - h13, p + 11 * xiStride, upper);
        Store8(h10 - h30, p + 12 * xiStride, upper);
        Store8(h11 - h31, p + 13 * xiStride, upper);
        Store8(h12 - h32, p + 14 * xiStride, upper);
        Store8(h13 - h33, p + 15 * xiStride, upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<float> value, float* p, long upper)
    {
        if (upper == 4)
        {
            value.Store(p);
            return;
        }
        value.GetLower().Store(p);
        value.GetUpper().Store(p + upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row8(float* even, float* odd, int tx, out Vector256<float> h0, out Vector256<float> h1, out Vector256<float> h2, out Vector256<float> h3)
    {
        Vector256<float> e = Vector256.Load(even + tx), e1 = Vector256.Load(even + tx + 1);
        Vector256<float> o = Vector256.Load(odd + tx), o1 = Vector256.Load(odd + tx + 1);
        h0 = e - e1;
        h1 = o + e1;
        h2 = e1 - o;
        h3 = o - o1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* even, float* odd, int tx, out Vector128<float> h0, out Vector128<float> h1, out Vector128<float> h2, out Vector128<float> h3)
    {
        Vector128<float> e = Vector128.Load(even + tx), e1 = Vector128.Load(even + tx + 1);
        Vector128<float> o = Vector128.Load(odd + tx), o1 = Vector128.Load(odd + tx + 1);
        h0 = e - e1;
        h1 = o + e1;
        h2 = e1 - o;
        h3 = o - o1;
    }

    /// <summary>
    /// The output tiles of one output channel for tile rows <paramref name="ty0"/>..<paramref name="ty1"/> (tile t of the group
    /// at column (ty − ty0)·rowTiles + tx of M):
    /// Y = Aᵀ M A (+ <paramref name="bias"/>, then max(·, 0) when <paramref name="relu"/>), written into the
    /// <paramref name="outputHeight"/> × <paramref name="outputWidth"/> plane <paramref name="y"/> (tiles past its edge clipped).
    /// <paramref name="m"/> points at this channel's row of ξ = 0. With <paramref name="pooled"/> (even output sides), each
    /// tile's maximum max(max(y00, y10), max(y01, y11)), as <see cref="ConvolutionKernels.MaxPool"/> takes a 2 × 2 window,
    /// goes to <c>pooled[ty·tilesX + tx]</c> instead (<paramref name="y"/> is then null). With <paramref name="codes"/> too, each
    /// window's code (<see cref="ConvolutionKernels.PositiveBit"/>) goes to <c>codes[ty·tilesX + tx]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputTransform(float* m, long xiStride, int ty0, int ty1, int tilesX, int rowTiles, float* y, int outputHeight, int outputWidth, float bias, bool relu,
        float* pooled = null, byte* codes = null)
    {
        float* tail = stackalloc float[16];
        bool wide = Wide;
        if (y == null && pooled != null && tilesX == rowTiles && wide && Vector512.IsHardwareAccelerated)
        {
            // Only pooled values (and codes) to write, and the group's tiles numbered without gaps, as its pooled output
            // is: sixteen tiles per Vector512 across tile rows.
            int count = (ty1 - ty0) * tilesX;
            float* pool = pooled + (long)ty0 * tilesX;
            byte* code = codes == null ? null : codes + (long)ty0 * tilesX;
            for (int t = 0; t < count; t += 16)
                PoolTiles16(m + t, xiStride, bias, relu, pool + t, code == null ? null : code + t, Math.Min(16, count - t), tail);
            return;
        }
        for (int ty = ty0; ty < ty1; ty++)
        {
            float* src = m + (long)(ty - ty0) * rowTiles;
            int row = 2 * ty;
            float* top = y == null ? null : y + (long)row * outputWidth, bottom = top != null && row + 1 < outputHeight ? top + outputWidth : null;
            float* pool = pooled == null ? null : pooled + (long)ty * tilesX;
            byte* code = codes == null ? null : codes + (long)ty * tilesX;
            int tx = 0;
            for (; wide && tx < tilesX && tx + 8 <= rowTiles; tx += 8)
            {
                OutputTiles8(src + tx, xiStride, top == null ? null : top + 2 * tx, bottom == null ? null : bottom + 2 * tx, Math.Min(16, outputWidth - 2 * tx), bias, relu, tail,
                    pool == null ? null : pool + tx, code == null ? null : code + tx, Math.Min(8, tilesX - tx));
            }
            for (; tx < tilesX; tx += 4)
            {
                OutputTiles4(src + tx, xiStride, top == null ? null : top + 2 * tx, bottom == null ? null : bottom + 2 * tx, Math.Min(8, outputWidth - 2 * tx), bias, relu, tail,
                    pool == null ? null : pool + tx, code == null ? null : code + tx, Math.Min(4, tilesX - tx));
            }
        }
    }

    /// <summary>
    /// Whether the transforms take eight tiles per <see cref="Vector256{T}"/> where a tile row allows (AVX), else four per
    /// <see cref="Vector128{T}"/>; each lane does the same arithmetic either way. Settable so tests can compare the two;
    /// without AVX it stays false (the eight-tile store uses AVX shuffles).
    /// </summary>
    internal static bool Wide
    {
        get => s_wide;
        set => s_wide = value && System.Runtime.Intrinsics.X86.Avx.IsSupported;
    }

    private static bool s_wide = System.Runtime.Intrinsics.X86.Avx.IsSupported;

    /// <summary>
    /// Four output tiles from M at p (ξ-th value at p + ξ·xiStride): Aᵀ down the columns, s0 = m0 + m1 + m2,
    /// s1 = m1 − m2 − m3 (rows a of M), then along the rows, plus the bias; rows 2ty and 2ty + 1 (bottom null past the edge).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTiles4(float* p, long xiStride, float* top, float* bottom, int valid, float bias, bool relu, float* tail, float* pool, byte* code, int tiles)
    {
        Vector128<float> b = Vector128.Create(bias);
        Vector128<float> m1b0 = Vector128.Load(p + 4 * xiStride), m2b0 = Vector128.Load(p + 8 * xiStride);
        Vector128<float> s00 = Vector128.Load(p) + m1b0 + m2b0, s10 = m1b0 - m2b0 - Vector128.Load(p + 12 * xiStride);
        Vector128<float> m1b1 = Vector128.Load(p + 5 * xiStride), m2b1 = Vector128.Load(p + 9 * xiStride);
        Vector128<float> s01 = Vector128.Load(p + xiStride) + m1b1 + m2b1, s11 = m1b1 - m2b1 - Vector128.Load(p + 13 * xiStride);
        Vector128<float> m1b2 = Vector128.Load(p + 6 * xiStride), m2b2 = Vector128.Load(p + 10 * xiStride);
        Vector128<float> s02 = Vector128.Load(p + 2 * xiStride) + m1b2 + m2b2, s12 = m1b2 - m2b2 - Vector128.Load(p + 14 * xiStride);
        Vector128<float> m1b3 = Vector128.Load(p + 7 * xiStride), m2b3 = Vector128.Load(p + 11 * xiStride);
        Vector128<float> s03 = Vector128.Load(p + 3 * xiStride) + m1b3 + m2b3, s13 = m1b3 - m2b3 - Vector128.Load(p + 15 * xiStride);
        Vector128<float> y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b;
        Vector128<float> y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b;
        if (relu)
        {
            y00 = Vector128.Max(y00, Vector128<float>.Zero);
            y01 = Vector128.Max(y01, Vector128<float>.Zero);
            y10 = Vector128.Max(y10, Vector128<float>.Zero);
            y11 = Vector128.Max(y11, Vector128<float>.Zero);
        }
        if (pool != null)
        {
            Vector128<float> max = Vector128.Max(Vector128.Max(y00, y10), Vector128.Max(y01, y11));
            StoreTiles(pool, max, tiles, tail);
            if (code != null) StoreCodes(code, Codes4(y00, y01, y10, y11, max), tiles);
            return;
        }
        StoreRow(top, y00, y01, valid, tail);
        if (bottom != null) StoreRow(bottom, y10, y11, valid, tail);
    }

    /// <summary><see cref="OutputTiles4"/> for eight tiles in <see cref="Vector256{T}"/> lanes (AVX), same arithmetic per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTiles8(float* p, long xiStride, float* top, float* bottom, int valid, float bias, bool relu, float* tail, float* pool, byte* code, int tiles)
    {
        Vector256<float> b = Vector256.Create(bias);
        Vector256<float> m1b0 = Vector256.Load(p + 4 * xiStride), m2b0 = Vector256.Load(p + 8 * xiStride);
        Vector256<float> s00 = Vector256.Load(p) + m1b0 + m2b0, s10 = m1b0 - m2b0 - Vector256.Load(p + 12 * xiStride);
        Vector256<float> m1b1 = Vector256.Load(p + 5 * xiStride), m2b1 = Vector256.Load(p + 9 * xiStride);
        Vector256<float> s01 = Vector256.Load(p + xiStride) + m1b1 + m2b1, s11 = m1b1 - m2b1 - Vector256.Load(p + 13 * xiStride);
        Vector256<float> m1b2 = Vector256.Load(p + 6 * xiStride), m2b2 = Vector256.Load(p + 10 * xiStride);
        Vector256<float> s02 = Vector256.Load(p + 2 * xiStride) + m1b2 + m2b2, s12 = m1b2 - m2b2 - Vector256.Load(p + 14 * xiStride);
        Vector256<float> m1b3 = Vector256.Load(p + 7 * xiStride), m2b3 = Vector256.Load(p + 11 * xiStride);
        Vector256<float> s03 = Vector256.Load(p + 3 * xiStride) + m1b3 + m2b3, s13 = m1b3 - m2b3 - Vector256.Load(p + 15 * xiStride);
        Vector256<float> y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b;
        Vector256<float> y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b;
        if (relu)
        {
            y00 = Vector256.Max(y00, Vector256<float>.Zero);
            y01 = Vector256.Max(y01, Vector256<float>.Zero);
            y10 = Vector256.Max(y10, Vector256<float>.Zero);
            y11 = Vector256.Max(y11, Vector256<float>.Zero);
        }
        if (pool != null)
        {
            Vector256<float> max = Vector256.Max(Vector256.Max(y00, y10), Vector256.Max(y01, y11));
            StoreTiles(pool, max, tiles, tail);
            if (code != null)
                StoreCodes(code, Codes4(y00.GetLower(), y01.GetLower(), y10.GetLower(), y11.GetLower(), max.GetLower())
                    | (ulong)Codes4(y00.GetUpper(), y01.GetUpper(), y10.GetUpper(), y11.GetUpper(), max.GetUpper()) << 32, tiles);
            return;
        }
        StoreRow(top, y00, y01, valid, tail);
        if (bottom != null) StoreRow(bottom, y10, y11, valid, tail);
    }

    /// <summary>
    /// <see cref="OutputTiles8"/>'s arithmetic on sixteen tiles in <see cref="Vector512{T}"/> lanes when only the pooled
    /// maximum (and the window codes) are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolTiles16(float* p, long xiStride, float bias, bool relu, float* pool, byte* code, int tiles, float* tail)
    {
        Vector512<float> b = Vector512.Create(bias);
        Vector512<float> m1b0 = Vector512.Load(p + 4 * xiStride), m2b0 = Vector512.Load(p + 8 * xiStride);
        Vector512<float> s00 = Vector512.Load(p) + m1b0 + m2b0, s10 = m1b0 - m2b0 - Vector512.Load(p + 12 * xiStride);
        Vector512<float> m1b1 = Vector512.Load(p + 5 * xiStride), m2b1 = Vector512.Load(p + 9 * xiStride);
        Vector512<float> s01 = Vector512.Load(p + xiStride) + m1b1 + m2b1, s11 = m1b1 - m2b1 - Vector512.Load(p + 13 * xiStride);
        Vector512<float> m1b2 = Vector512.Load(p + 6 * xiStride), m2b2 = Vector512.Load(p + 10 * xiStride);
        Vector512<float> s02 = Vector512.Load(p + 2 * xiStride) + m1b2 + m2b2, s12 = m1b2 - m2b2 - Vector512.Load(p + 14 * xiStride);
        Vector512<float> m1b3 = Vector512.Load(p + 7 * xiStride), m2b3 = Vector512.Load(p + 11 * xiStride);
        Vector512<float> s03 = Vector512.Load(p + 3 * xiStride) + m1b3 + m2b3, s13 = m1b3 - m2b3 - Vector512.Load(p + 15 * xiStride);
        Vector512<float> y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b;
        Vector512<float> y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b;
        if (relu)
        {
            y00 = Vector512.Max(y00, Vector512<float>.Zero);
            y01 = Vector512.Max(y01, Vector512<float>.Zero);
            y10 = Vector512.Max(y10, Vector512<float>.Zero);
            y11 = Vector512.Max(y11, Vector512<float>.Zero);
        }
        Vector512<float> max = Vector512.Max(Vector512.Max(y00, y10), Vector512.Max(y01, y11));
        if (tiles == 16)
        {
            max.Store(pool);
        }
        else
        {
            max.GetLower().Store(tail);
            max.GetUpper().Store(tail + 8);
            for (int i = 0; i < tiles; i++) pool[i] = tail[i];
        }
        if (code == null) return;
        // Four tiles at a time, a quarter of the vector each.
        Vector256<float> a = y00.GetLower(), b0 = y01.GetLower(), c = y10.GetLower(), d = y11.GetLower(), m = max.GetLower();
        ulong low = Codes4(a.GetLower(), b0.GetLower(), c.GetLower(), d.GetLower(), m.GetLower())
            | (ulong)Codes4(a.GetUpper(), b0.GetUpper(), c.GetUpper(), d.GetUpper(), m.GetUpper()) << 32;
        StoreCodes(code, low, Math.Min(tiles, 8));
        if (tiles <= 8) return;
        (a, b0, c, d, m) = (y00.GetUpper(), y01.GetUpper(), y10.GetUpper(), y11.GetUpper(), max.GetUpper());
        ulong high = Codes4(a.GetLower(), b0.GetLower(), c.GetLower(), d.GetLower(), m.GetLower())
            | (ulong)Codes4(a.GetUpper(), b0.GetUpper(), c.GetUpper(), d.GetUpper(), m.GetUpper()) << 32;
        StoreCodes(code + 8, high, tiles - 8);
    }

    /// <summary>
    /// The window codes (<see cref="ConvolutionKernels.PositiveBit"/>) of four tiles, one byte each, tile 0 lowest: the
    /// first value in row-major order equal to the window's maximum (the last value when none is: a NaN), and whether it
    /// is positive.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Codes4(Vector128<float> y00, Vector128<float> y01, Vector128<float> y10, Vector128<float> y11, Vector128<float> max)
    {
        Vector128<int> isA = Vector128.Equals(y00, max).AsInt32(), isB = Vector128.Equals(y01, max).AsInt32(), isC = Vector128.Equals(y10, max).AsInt32();
        Vector128<int> index = Vector128.ConditionalSelect(isA, Vector128<int>.Zero,
            Vector128.ConditionalSelect(isB, Vector128<int>.One, Vector128.ConditionalSelect(isC, Vector128.Create(2), Vector128.Create(3))));
        Vector128<float> taken = Vector128.ConditionalSelect(isA.AsSingle(), y00, Vector128.ConditionalSelect(isB.AsSingle(), y01, Vector128.ConditionalSelect(isC.AsSingle(), y10, y11)));
        Vector128<int> value = index | (Vector128.GreaterThan(taken, Vector128<float>.Zero).AsInt32() & Vector128.Create(ConvolutionKernels.PositiveBit));
        return Vector128.Narrow(Vector128.Narrow(value, value), Vector128<short>.Zero).AsUInt32().ToScalar();
    }

    /// <summary>The first <paramref name="tiles"/> bytes of <paramref name="codes"/> (little-endian: tile 0 in the low byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreCodes(byte* dst, ulong codes, int tiles)
    {
        if (tiles == 8)
        {
            *(ulong*)dst = codes;
            return;
        }
        if (tiles == 4)
        {
            *(uint*)dst = (uint)codes;
            return;
        }
        for (int i = 0; i < tiles; i++, codes >>= 8) dst[i] = (byte)codes;
    }

    /// <summary>One value per tile, the first <paramref name="tiles"/> lanes of <paramref name="value"/> stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTiles(float* dst, Vector256<float> value, int tiles, float* tail)
    {
        if (tiles == 8)
        {
            value.Store(dst);
            return;
        }
        value.Store(tail);
        for (int i = 0; i < tiles; i++) dst[i] = tail[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTiles(float* dst, Vector128<float> value, int tiles, float* tail)
    {
        if (tiles == 4)
        {
            value.Store(dst);
            return;
        }
        value.Store(tail);
        for (int i = 0; i < tiles; i++) dst[i] = tail[i];
    }

    /// <summary>The columns of eight tiles interleaved into one output row of up to 16 values (<paramref name="valid"/> of them stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector256<float> left, Vector256<float> right, int valid, float* tail)
    {
        // Unpacking works within 128-bit halves: [l0 r0 l1 r1 | l4 r4 l5 r5] and [l2 r2 l3 r3 | l6 r6 l7 r7].
        Vector256<float> low = System.Runtime.Intrinsics.X86.Avx.UnpackLow(left, right), high = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(left, right);
        Vector256<float> first = System.Runtime.Intrinsics.X86.Avx.Permute2x128(low, high, 0x20), second = System.Runtime.Intrinsics.X86.Avx.Permute2x128(low, high, 0x31);
        if (valid == 16)
        {
            first.Store(dst);
            second.Store(dst + 8);
            return;
        }
        first.Store(tail);
        second.Store(tail + 8);
        for (int i = 0; i < valid; i++) dst[i] = tail[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* dst, Vector128<float> left, Vector128<float> right, int valid, float* tail)
    {
        Vector128<float> lo = Interleave.ZipLow(left, right), hi = Interleave.ZipHigh(left, right);
        if (valid == 8)
        {
            lo.Store(dst);
            hi.Store(dst + 4);
            return;
        }
        lo.Store(tail);
        hi.Store(tail + 4);
        for (int i = 0; i < valid; i++) dst[i] = tail[i];
    }
}
