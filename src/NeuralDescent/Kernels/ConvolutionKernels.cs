using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>
/// The geometry of a 2-D sliding window over one channel-major sample (C × H × W): a k × k window moved by
/// <see cref="Stride"/> over the input padded with <see cref="Padding"/> zeros on each side, giving an OH × OW grid.
/// </summary>
/// <remarks>OH = ⌊(H + 2·pad − k) / stride⌋ + 1, and likewise OW; input row iy = oy·stride + ky − pad.</remarks>
internal readonly record struct WindowGeometry(int Channels, int Height, int Width, int Kernel, int Stride, int Padding)
{
    public int OutputHeight => (Height + 2 * Padding - Kernel) / Stride + 1;
    public int OutputWidth => (Width + 2 * Padding - Kernel) / Stride + 1;
    public int InputPlane => Height * Width;
    public int OutputPlane => OutputHeight * OutputWidth;

    /// <summary>Rows of the im2col matrix, C·k·k.</summary>
    public int PatchSize => Channels * Kernel * Kernel;
}

/// <summary>Span kernels of the convolution and pooling layers, over one sample at a time in C × H × W layout.</summary>
internal static class ConvolutionKernels
{
    /// <summary>
    /// Unfolds one sample into the im2col matrix: <c>col[(c·k + ky)·k + kx, oy·OW + ox] = x[c, oy·s + ky − p, ox·s + kx − p]</c>
    /// (0 outside the input), a (C·k·k) × (OH·OW) row-major matrix, so that the convolution is W·col with W out × (C·k·k).
    /// </summary>
    /// <remarks>Each output row copies up to OW values; with stride 1 they are contiguous and go through
    /// <see cref="Copy"/>, whose inline vector loop costs far less than a span call per row at OW = 24.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Im2Col(in WindowGeometry g, ReadOnlySpan<float> x, Span<float> col)
    {
        int k = g.Kernel, s = g.Stride, pad = g.Padding, h = g.Height, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        if (x.Length < g.Channels * h * w || col.Length < (long)g.PatchSize * oh * ow) throw new ArgumentException("Im2Col: a span is too short.");
        fixed (float* px = x, pcol = col)
        {
            float* line = pcol;
            for (int c = 0; c < g.Channels; c++)
            {
                float* plane = px + (long)c * h * w;
                for (int ky = 0; ky < k; ky++)
                {
                    for (int kx = 0; kx < k; kx++)
                    {
                        (int first, int last) = InsideColumns(g, kx);
                        for (int oy = 0; oy < oh; oy++, line += ow)
                        {
                            int iy = oy * s + ky - pad;
                            if ((uint)iy >= (uint)h || first >= last)
                            {
                                new Span<float>(line, ow).Clear();
                                continue;
                            }
                            for (int ox = 0; ox < first; ox++) line[ox] = 0f;
                            for (int ox = last; ox < ow; ox++) line[ox] = 0f;
                            float* src = plane + (long)iy * w + first * s + kx - pad;
                            if (s == 1)
                            {
                                Copy(src, line + first, last - first);
                            }
                            else
                            {
                                for (int ox = first; ox < last; ox++, src += s) line[ox] = *src;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output columns [first, last) whose input column ox·s + kx − pad lies inside [0, W).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int First, int Last) InsideColumns(in WindowGeometry g, int kx)
    {
        int first = kx >= g.Padding ? 0 : (g.Padding - kx + g.Stride - 1) / g.Stride;
        int reach = g.Width - 1 + g.Padding - kx;
        return (first, reach < 0 ? 0 : Math.Min(g.OutputWidth, reach / g.Stride + 1));
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/>: adds every column entry back to the input position it was copied from (dx must
    /// be cleared first). <paramref name="col"/> holds rows <paramref name="firstRow"/>..firstRow + <paramref name="rows"/>
    /// of the im2col matrix (all of them by default), so the matrix can be produced and folded back a block at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Col2ImAdd(in WindowGeometry g, ReadOnlySpan<float> col, Span<float> dx, int firstRow = 0, int rows = -1)
    {
        int k = g.Kernel, s = g.Stride, pad = g.Padding, h = g.Height, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        if (rows < 0) rows = g.PatchSize - firstRow;
        if (firstRow < 0 || firstRow + rows > g.PatchSize || dx.Length < g.Channels * h * w || col.Length < (long)rows * oh * ow)
            throw new ArgumentException("Col2ImAdd: a span is too short or the rows are out of range.");
        fixed (float* pdx = dx, pcol = col)
        {
            float* line = pcol;
            for (int j = firstRow; j < firstRow + rows; j++)
            {
                int c = j / (k * k), ky = j / k % k, kx = j % k;
                float* plane = pdx + (long)c * h * w;
                (int first, int last) = InsideColumns(g, kx);
                if (s == 1 && first < last)
                {
                    // The output rows whose input row iy = oy + ky − pad lies inside, each a run of last − first values.
                    int oy0 = Math.Max(0, pad - ky), oy1 = Math.Min(oh, h + pad - ky), n = last - first;
                    float* from = line + (long)oy0 * ow + first, to = plane + (long)(oy0 + ky - pad) * w + first + kx - pad;
                    for (int oy = oy0; oy < oy1; oy++, from += ow, to += w)
                    {
                        int i = 0;
                        if (Vector512.IsHardwareAccelerated)
                        {
                            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(to + i) + Vector512.Load(from + i), to + i);
                        }
                        if (Vector256.IsHardwareAccelerated)
                        {
                            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(to + i) + Vector256.Load(from + i), to + i);
                        }
                        if (Vector128.IsHardwareAccelerated)
                        {
                            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(to + i) + Vector128.Load(from + i), to + i);
                        }
                        for (; i < n; i++) to[i] += from[i];
                    }
                    line += (long)oh * ow;
                    continue;
                }
                for (int oy = 0; oy < oh; oy++, line += ow)
                {
                    int iy = oy * s + ky - pad;
                    if ((uint)iy >= (uint)h || first >= last) continue;
                    float* dst = plane + (long)iy * w + first * s + kx - pad;
                    for (int ox = first; ox < last; ox++, dst += s) *dst += line[ox];
                }
            }
        }
    }

    /// <summary>
    /// Columns [p0, p0 + kc) of one sample's im2col matrix X̃ (<see cref="Im2Col"/>), transposed and packed as the
    /// 16-column B panels of <see cref="MatrixKernels.MultiplyPrepacked"/>:
    /// <c>dst[(j / 16)·16·kcp + q·16 + j mod 16] = X̃[j, p0 + q]</c> for patch entries j &lt; C·k·k and q &lt; kc, zeros in the
    /// padding (j up to a whole panel, q up to kcp = kc rounded up to 4). The values are read from the sample itself, so
    /// X̃ is never written out; ∂C/∂W = G·X̃ᵀ then runs from these panels.
    /// </summary>
    /// <remarks>Within one output row, eight positions of sixteen entries are two 8 × 8 transposes in registers (AVX; on
    /// ARM64 four positions are four 4 × 4 transposes), where the stride is 1 and every entry's input row and columns lie
    /// inside the sample; elsewhere, one value at a time with the bounds checked.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void PackPatchesTransposed(in WindowGeometry g, ReadOnlySpan<float> x, int p0, int kc, float* dst)
    {
        int k = g.Kernel, s = g.Stride, pad = g.Padding, h = g.Height, w = g.Width, ow = g.OutputWidth, n = g.PatchSize;
        if (x.Length < g.Channels * h * w || p0 < 0 || kc < 0 || (long)p0 + kc > g.OutputPlane)
            throw new ArgumentException("PackPatchesTransposed: the sample is too short or the columns are out of range.");
        int kcp = (kc + 3) & ~3;
        int* offset = stackalloc int[16];
        int* rowShift = stackalloc int[16];
        int* columnShift = stackalloc int[16];
        fixed (float* px = x)
        {
            for (int j0 = 0; j0 < n; j0 += 16)
            {
                float* panel = dst + (long)j0 * kcp;
                int entries = Math.Min(16, n - j0);
                int first = 0, last = ow, lowRow = int.MaxValue, highRow = int.MinValue;
                for (int e = 0; e < entries; e++)
                {
                    int j = j0 + e, c = j / (k * k), ky = j / k % k, kx = j % k;
                    rowShift[e] = ky - pad;
                    columnShift[e] = kx - pad;
                    offset[e] = c * h * w + (ky - pad) * w + kx - pad;
                    (int f, int l) = InsideColumns(g, kx);
                    first = Math.Max(first, f);
                    last = Math.Min(last, l);
                    lowRow = Math.Min(lowRow, ky - pad);
                    highRow = Math.Max(highRow, ky - pad);
                }
                bool vector = (Avx.IsSupported || AdvSimd.Arm64.IsSupported) && s == 1 && entries == 16;
                for (int q = 0; q < kc;)
                {
                    int oy = (p0 + q) / ow, ox0 = (p0 + q) % ow, oxEnd = Math.Min(ow, ox0 + kc - q);
                    float* row = panel + (long)(q - ox0) * 16; // row + ox·16 is position (oy, ox)
                    int ox = ox0;
                    if (vector && oy + lowRow >= 0 && oy + highRow < h)
                    {
                        int from = Math.Clamp(first, ox0, oxEnd), to = Math.Clamp(last, from, oxEnd);
                        PatchValues(px, g, oy, ox, from, entries, offset, rowShift, columnShift, row);
                        if (Avx.IsSupported)
                        {
                            for (ox = from; ox + 8 <= to; ox += 8)
                            {
                                int shift = oy * w + ox;
                                Transpose8Rows(px + shift, offset, row + ox * 16);
                                Transpose8Rows(px + shift, offset + 8, row + ox * 16 + 8);
                            }
                        }
                        else
                        {
                            for (ox = from; ox + 4 <= to; ox += 4)
                            {
                                int shift = oy * w + ox;
                                for (int e = 0; e < 16; e += 4) Transpose4Rows(px + shift, offset + e, row + ox * 16 + e);
                            }
                        }
                    }
                    PatchValues(px, g, oy, ox, oxEnd, entries, offset, rowShift, columnShift, row);
                    q += oxEnd - ox0;
                }
                if (entries < 16)
                {
                    for (int q = 0; q < kc; q++) new Span<float>(panel + q * 16 + entries, 16 - entries).Clear();
                }
                new Span<float>(panel + kc * 16, (kcp - kc) * 16).Clear();
            }
        }
    }

    /// <summary>
    /// The sample x (C × H × W) channels last and zero-padded: dst[((y + pad)·(W + 2·pad) + x + pad)·C + c] = x[c, y, x],
    /// zeros around; dst holds (H + 2·pad)·(W + 2·pad)·C floats. Eight channels by eight positions at a time through
    /// the AVX 8×8 transpose where C is a multiple of 8 and the row at least 8 wide; one value at a time otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ToChannelsLast(in WindowGeometry g, ReadOnlySpan<float> x, Span<float> dst)
    {
        int c = g.Channels, h = g.Height, w = g.Width, pad = g.Padding, wp = w + 2 * pad;
        if (x.Length < c * h * w || dst.Length < (h + 2 * pad) * wp * c)
            throw new ArgumentException("ToChannelsLast: the sample or the destination is too short.");
        fixed (float* px = x, pd = dst)
        {
            if (pad > 0)
            {
                new Span<float>(pd, pad * wp * c).Clear();
                new Span<float>(pd + (long)(pad + h) * wp * c, pad * wp * c).Clear();
            }
            // Sixteen channels at a time (two 8 × 8 blocks, so each 64-byte line of a position is written whole) down the
            // whole plane, so that sixteen input rows stream in order; a row that is not a multiple of 8 wide ends with a
            // block that overlaps the one before it (writing the same values again).
            bool vector = Avx.IsSupported && c % 8 == 0 && w >= 8;
            for (int c0 = 0; vector && c0 < c; c0 += 16)
            {
                for (int y = 0; y < h; y++)
                {
                    float* line = pd + ((long)(y + pad) * wp + pad) * c + c0;
                    float* src = px + (long)c0 * h * w + y * w;
                    for (int x0 = 0; x0 < w; x0 += 8)
                    {
                        int at = Math.Min(x0, w - 8);
                        MatrixKernels.Transpose8x8(src + at, h * w, line + (long)at * c, c);
                        if (c0 + 8 < c) MatrixKernels.Transpose8x8(src + 8 * h * w + at, h * w, line + (long)at * c + 8, c);
                    }
                }
            }
            for (int y = 0; y < h; y++)
            {
                float* row = pd + (long)(y + pad) * wp * c;
                if (pad > 0)
                {
                    new Span<float>(row, pad * c).Clear();
                    new Span<float>(row + (long)(pad + w) * c, pad * c).Clear();
                }
                float* line = row + pad * c;
                for (int x0 = 0; !vector && x0 < w; x0++)
                    for (int ch = 0; ch < c; ch++) line[(long)x0 * c + ch] = px[(long)ch * h * w + y * w + x0];
            }
        }
    }

    /// <summary>
    /// The inverse of <see cref="ToChannelsLast"/> without the border: dst[c, y, x] = src[((y + pad)·(W + 2·pad) + x + pad)·C + c]
    /// for the C × H × W sample dst; the padding positions of src are not read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void FromChannelsLast(in WindowGeometry g, ReadOnlySpan<float> src, Span<float> dst)
    {
        int c = g.Channels, h = g.Height, w = g.Width, pad = g.Padding, wp = w + 2 * pad;
        if (dst.Length < c * h * w || src.Length < (h + 2 * pad) * wp * c)
            throw new ArgumentException("FromChannelsLast: the sample or the source is too short.");
        fixed (float* ps = src, pd = dst)
        {
            bool vector = Avx.IsSupported && c % 8 == 0 && w >= 8;
            for (int y = 0; y < h; y++)
            {
                float* line = ps + ((long)(y + pad) * wp + pad) * c;
                for (int x0 = 0; vector && x0 < w; x0 += 8)
                {
                    int at = Math.Min(x0, w - 8);
                    for (int c0 = 0; c0 < c; c0 += 8)
                        MatrixKernels.Transpose8x8(line + (long)at * c + c0, c, pd + (long)c0 * h * w + y * w + at, h * w);
                }
                for (int x0 = 0; !vector && x0 < w; x0++)
                    for (int ch = 0; ch < c; ch++) pd[(long)ch * h * w + y * w + x0] = line[(long)x0 * c + ch];
            }
        }
    }

    /// <summary>Positions [ox, end) of output row oy for the panel's entries, bounds checked: row[ox·16 + e] = X̃[j0 + e, (oy, ox)].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PatchValues(float* x, in WindowGeometry g, int oy, int ox, int end, int entries, int* offset, int* rowShift, int* columnShift, float* row)
    {
        int s = g.Stride, h = g.Height, w = g.Width;
        for (; ox < end; ox++)
        {
            float* d = row + ox * 16;
            for (int e = 0; e < entries; e++)
            {
                int iy = oy * s + rowShift[e], ix = ox * s + columnShift[e];
                d[e] = (uint)iy < (uint)h && (uint)ix < (uint)w ? x[offset[e] + oy * s * w + ox * s] : 0f;
            }
        }
    }

    /// <summary>Four rows of four floats, row r at x + offset[r], transposed into four rows of a 16-wide panel at dst (ARM64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose4Rows(float* x, int* offset, float* dst)
    {
        Vector128<float> r0 = Vector128.Load(x + offset[0]), r1 = Vector128.Load(x + offset[1]);
        Vector128<float> r2 = Vector128.Load(x + offset[2]), r3 = Vector128.Load(x + offset[3]);
        // (a0 b0 a1 b1), (a2 b2 a3 b3), (c0 d0 c1 d1), (c2 d2 c3 d3), then pairs of those halves.
        Vector128<ulong> t0 = AdvSimd.Arm64.ZipLow(r0, r1).AsUInt64(), t1 = AdvSimd.Arm64.ZipHigh(r0, r1).AsUInt64();
        Vector128<ulong> t2 = AdvSimd.Arm64.ZipLow(r2, r3).AsUInt64(), t3 = AdvSimd.Arm64.ZipHigh(r2, r3).AsUInt64();
        AdvSimd.Arm64.ZipLow(t0, t2).AsSingle().Store(dst);
        AdvSimd.Arm64.ZipHigh(t0, t2).AsSingle().Store(dst + 16);
        AdvSimd.Arm64.ZipLow(t1, t3).AsSingle().Store(dst + 32);
        AdvSimd.Arm64.ZipHigh(t1, t3).AsSingle().Store(dst + 48);
    }

    /// <summary>Eight rows of eight floats, row r at x + offset[r], transposed into eight rows of a 16-wide panel at dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8Rows(float* x, int* offset, float* dst)
    {
        Vector256<float> r0 = Avx.LoadVector256(x + offset[0]), r1 = Avx.LoadVector256(x + offset[1]);
        Vector256<float> r2 = Avx.LoadVector256(x + offset[2]), r3 = Avx.LoadVector256(x + offset[3]);
        Vector256<float> r4 = Avx.LoadVector256(x + offset[4]), r5 = Avx.LoadVector256(x + offset[5]);
        Vector256<float> r6 = Avx.LoadVector256(x + offset[6]), r7 = Avx.LoadVector256(x + offset[7]);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + 16, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 32, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 48, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 64, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 80, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 96, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 112, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>dst[0..n) = src[0..n), in the widest accelerated vectors, then scalars.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 4; i += 4) Vector128.Store(Vector128.Load(src + i), dst + i);
        }
        for (; i < n; i++) dst[i] = src[i];
    }

    /// <summary>y[c, ·] += b[c] for each of the rows of a rows × width matrix, then max(·, 0) when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRowBias(Span<float> y, ReadOnlySpan<float> bias, int width, bool relu)
    {
        for (int c = 0; c < bias.Length; c++)
        {
            Span<float> row = y.Slice(c * width, width);
            TensorPrimitives.Add(row, bias[c], row);
            if (relu) TensorPrimitives.Max(row, 0f, row);
        }
    }

    /// <summary>sums[c] += Σⱼ m[c, j] over a rows × width matrix, each row summed in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateRowSums(ReadOnlySpan<float> m, Span<float> sums, int width)
    {
        for (int c = 0; c < sums.Length; c++) sums[c] += ReductionKernels.Sum(m.Slice(c * width, width));
    }

    /// <summary>Max pooling of one sample: y[c, oy, ox] = max over the k × k window at (oy·s, ox·s).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool(in WindowGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        if (g.Kernel == 2 && g.Stride == 2)
        {
            MaxPool2x2(g, x, y);
            return;
        }
        int k = g.Kernel, s = g.Stride, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        for (int c = 0; c < g.Channels; c++)
        {
            ReadOnlySpan<float> plane = x.Slice(c * g.InputPlane, g.InputPlane);
            Span<float> outPlane = y.Slice(c * g.OutputPlane, g.OutputPlane);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    int origin = oy * s * w + ox * s;
                    float max = plane[origin];
                    for (int ky = 0; ky < k; ky++)
                    {
                        ReadOnlySpan<float> line = plane.Slice(origin + ky * w, k);
                        for (int kx = 0; kx < k; kx++) max = MathF.Max(max, line[kx]);
                    }
                    outPlane[oy * ow + ox] = max;
                }
            }
        }
    }

    /// <summary>
    /// The 2×2, stride-2 case: the maximum of two rows' pairs, four windows per vector (rows first, then the pairs split
    /// into even and odd columns). Maximum takes one of its inputs (IEEE 754 maximum, as <see cref="MathF.Max(float, float)"/>),
    /// so the order of the comparisons cannot change the result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxPool2x2(in WindowGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        if (x.Length < g.Channels * g.InputPlane || y.Length < g.Channels * g.OutputPlane) throw new ArgumentException("MaxPool2x2: a span is too short.");
        bool wide = Vector512.IsHardwareAccelerated;
        Vector512<int> swap8 = Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        Vector512<int> evens8 = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
        fixed (float* px = x, py = y)
        {
            for (int c = 0; c < g.Channels; c++)
            {
                float* plane = px + (long)c * g.InputPlane, outPlane = py + (long)c * g.OutputPlane;
                for (int oy = 0; oy < oh; oy++)
                {
                    float* top = plane + 2 * oy * w, bottom = top + w, line = outPlane + oy * ow;
                    int ox = 0;
                    // Eight windows per Vector512 where the hardware has it: each pair's maximum, then the pairs' even lanes.
                    for (; wide && ox + 8 <= ow; ox += 8)
                    {
                        Vector512<float> pairs = Vector512.Max(Vector512.Load(top + 2 * ox), Vector512.Load(bottom + 2 * ox));
                        Vector512.Shuffle(Vector512.Max(pairs, Vector512.Shuffle(pairs, swap8)), evens8).GetLower().Store(line + ox);
                    }
                    for (; ox + 4 <= ow; ox += 4)
                    {
                        Vector128<float> left = Vector128.Max(Vector128.Load(top + 2 * ox), Vector128.Load(bottom + 2 * ox));
                        Vector128<float> right = Vector128.Max(Vector128.Load(top + 2 * ox + 4), Vector128.Load(bottom + 2 * ox + 4));
                        Vector128.Max(Interleave.Evens(left, right), Interleave.Odds(left, right)).Store(line + ox);
                    }
                    for (; ox < ow; ox++)
                        line[ox] = MathF.Max(MathF.Max(top[2 * ox], bottom[2 * ox]), MathF.Max(top[2 * ox + 1], bottom[2 * ox + 1]));
                }
            }
        }
    }

    /// <summary>
    /// Max pooling backward: each window's gradient goes to the first position (row-major) holding the window's maximum,
    /// recomputed from the input, so no argmax needs to be kept between the passes. dx is overwritten. With
    /// <paramref name="reluMask"/>, x is a ReLU's output and ReLU's backward follows: dx times 0 where x ≤ 0, as
    /// <see cref="ElementwiseKernels.LeakyReluBackward"/> with slope 0 computes it (bitwise).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPoolBackward(in WindowGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool reluMask = false)
    {
        if (g.Kernel == 2 && g.Stride == 2)
        {
            if (reluMask) MaxPool2x2Backward<ReluMask>(g, x, dy, dx);
            else MaxPool2x2Backward<NoMask>(g, x, dy, dx);
            return;
        }
        MaxPoolBackwardGeneral(g, x, dy, dx);
        if (reluMask) ElementwiseKernels.LeakyReluBackward(x, dx, dx, 0f);
    }

    private static void MaxPoolBackwardGeneral(in WindowGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int k = g.Kernel, s = g.Stride, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        dx.Clear();
        for (int c = 0; c < g.Channels; c++)
        {
            ReadOnlySpan<float> plane = x.Slice(c * g.InputPlane, g.InputPlane);
            Span<float> dPlane = dx.Slice(c * g.InputPlane, g.InputPlane);
            ReadOnlySpan<float> dOut = dy.Slice(c * g.OutputPlane, g.OutputPlane);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    int origin = oy * s * w + ox * s, best = origin;
                    float max = plane[origin];
                    for (int ky = 0; ky < k; ky++)
                    {
                        for (int kx = 0; kx < k; kx++)
                        {
                            int i = origin + ky * w + kx;
                            if (plane[i] > max)
                            {
                                max = plane[i];
                                best = i;
                            }
                        }
                    }
                    dPlane[best] += dOut[oy * ow + ox];
                }
            }
        }
    }

    /// <summary>
    /// The 2×2, stride-2 case: windows do not overlap, so every input position is written once (no clearing). Each
    /// window's gradient goes to its first maximum in row-major order (a, b / c, d) and the other three get +0. Two
    /// windows at a time in <c>Vector128</c> (x64 and ARM64), chosen with masks rather than branches (random data makes a
    /// branch per comparison mispredict about half the time); the scalar tail makes the same choice. <typeparamref name="TMask"/>
    /// applies ReLU's backward to each value before it is stored, or nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxPool2x2Backward<TMask>(in WindowGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
        where TMask : struct, IGradientMask
    {
        int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        int vectorWindows = Vector128.IsHardwareAccelerated ? ow & ~1 : 0;
        int windows8 = Vector512.IsHardwareAccelerated ? ow & ~7 : 0, windows4 = Vector256.IsHardwareAccelerated ? ow & ~3 : 0;
        Vector128<int> swap = Vector128.Create(1, 0, 3, 2), duplicate = Vector128.Create(0, 0, 1, 1);
        Vector128<float> odd = Vector128.Create(0, -1, 0, -1).AsSingle();
        Vector256<int> swap4 = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6), duplicate4 = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        Vector256<float> odd4 = Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
        Vector512<int> swap8 = Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        Vector512<int> duplicate8 = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        Vector512<float> odd8 = Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1).AsSingle();
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            for (int c = 0; c < g.Channels; c++)
            {
                float* plane = px + (long)c * g.InputPlane, dPlane = pdx + (long)c * g.InputPlane, dOut = pdy + (long)c * g.OutputPlane;
                // Rows and columns past the last window (odd sides) receive no gradient.
                if (oh * 2 < g.Height || ow * 2 < w) new Span<float>(dPlane, g.InputPlane).Clear();
                for (int oy = 0; oy < oh; oy++)
                {
                    float* top = plane + 2 * oy * w, bottom = top + w, dTop = dPlane + 2 * oy * w, dBottom = dTop + w, gradients = dOut + oy * ow;
                    int ox = 0;
                    // Eight, then four windows per vector where the hardware has the width: the same lanes as below.
                    for (; ox < windows8; ox += 8)
                    {
                        Vector512<float> t = Vector512.Load(top + 2 * ox), b = Vector512.Load(bottom + 2 * ox);
                        Vector512<float> max = Vector512.Max(Vector512.Max(t, Vector512.Shuffle(t, swap8)), Vector512.Max(b, Vector512.Shuffle(b, swap8)));
                        Vector512<float> inTop = Vector512.Equals(t, max), inBottom = Vector512.Equals(b, max);
                        Vector512<float> takeTop = Vector512.AndNot(inTop, Vector512.Shuffle(inTop, swap8) & odd8);
                        Vector512<float> takeBottom = Vector512.AndNot(inBottom | odd8, inTop | Vector512.Shuffle(inTop, swap8) | (Vector512.Shuffle(inBottom, swap8) & odd8));
                        Vector512<float> gradient = Vector512.Shuffle(Vector512.Create(Vector256.Load(gradients + ox), Vector256<float>.Zero), duplicate8);
                        Vector512.Store(TMask.Apply(t, gradient & takeTop), dTop + 2 * ox);
                        Vector512.Store(TMask.Apply(b, gradient & takeBottom), dBottom + 2 * ox);
                    }
                    for (; ox < windows4; ox += 4)
                    {
                        Vector256<float> t = Vector256.Load(top + 2 * ox), b = Vector256.Load(bottom + 2 * ox);
                        Vector256<float> max = Vector256.Max(Vector256.Max(t, Vector256.Shuffle(t, swap4)), Vector256.Max(b, Vector256.Shuffle(b, swap4)));
                        Vector256<float> inTop = Vector256.Equals(t, max), inBottom = Vector256.Equals(b, max);
                        Vector256<float> takeTop = Vector256.AndNot(inTop, Vector256.Shuffle(inTop, swap4) & odd4);
                        Vector256<float> takeBottom = Vector256.AndNot(inBottom | odd4, inTop | Vector256.Shuffle(inTop, swap4) | (Vector256.Shuffle(inBottom, swap4) & odd4));
                        Vector256<float> gradient = Vector256.Shuffle(Vector256.Create(Vector128.Load(gradients + ox), Vector128<float>.Zero), duplicate4);
                        Vector256.Store(TMask.Apply(t, gradient & takeTop), dTop + 2 * ox);
                        Vector256.Store(TMask.Apply(b, gradient & takeBottom), dBottom + 2 * ox);
                    }
                    for (; ox < vectorWindows; ox += 2)
                    {
                        Vector128<float> t = Vector128.Load(top + 2 * ox), b = Vector128.Load(bottom + 2 * ox);
                        Vector128<float> max = Vector128.Max(Vector128.Max(t, Vector128.Shuffle(t, swap)), Vector128.Max(b, Vector128.Shuffle(b, swap)));
                        Vector128<float> inTop = Vector128.Equals(t, max), inBottom = Vector128.Equals(b, max);
                        // Top: a, or b when a is not the maximum; bottom: only when neither top value is, c before d.
                        Vector128<float> takeTop = Vector128.AndNot(inTop, Vector128.Shuffle(inTop, swap) & odd);
                        // (d also takes it when nothing equals the maximum, as in the scalar tail: a NaN in the window.)
                        Vector128<float> takeBottom = Vector128.AndNot(inBottom | odd, inTop | Vector128.Shuffle(inTop, swap) | (Vector128.Shuffle(inBottom, swap) & odd));
                        Vector128<float> gradient = Vector128.Shuffle(Vector128.Create(gradients[ox], gradients[ox + 1], 0f, 0f), duplicate);
                        Vector128.Store(TMask.Apply(t, gradient & takeTop), dTop + 2 * ox);
                        Vector128.Store(TMask.Apply(b, gradient & takeBottom), dBottom + 2 * ox);
                    }
                    for (; ox < ow; ox++)
                    {
                        int i = 2 * ox;
                        float a = top[i], b = top[i + 1], c2 = bottom[i], d = bottom[i + 1], gradient = gradients[ox];
                        float max = MathF.Max(MathF.Max(a, b), MathF.Max(c2, d));
                        bool isA = a == max, isB = !isA && b == max, isC = !isA && !isB && c2 == max, isD = !isA && !isB && !isC;
                        dTop[i] = TMask.Apply(a, isA ? gradient : 0f);
                        dTop[i + 1] = TMask.Apply(b, isB ? gradient : 0f);
                        dBottom[i] = TMask.Apply(c2, isC ? gradient : 0f);
                        dBottom[i + 1] = TMask.Apply(d, isD ? gradient : 0f);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Bit 2 of a 2 × 2 max window's code, set when the value taken is positive. A window code (one byte) records what the
    /// backward pass of max pooling after a ReLU needs from the forward pass: bits 0–1 the value that takes the
    /// gradient, the first maximum in row-major order (0 top left, 1 top right, 2 bottom left, 3 bottom right; 3 also
    /// when no value equals the maximum, a NaN), as <see cref="MaxPoolBackward"/> picks it, and this bit for ReLU's mask.
    /// </summary>
    internal const int PositiveBit = 4;

    /// <summary>
    /// 2 × 2 max pooling's backward followed by ReLU's for one sample, from the window codes the forward pass kept
    /// instead of the ReLU's output: each window's gradient goes to the value its code names, times 0 unless that value
    /// was positive, and +0 elsewhere; bitwise what <see cref="MaxPoolBackward"/> with the mask writes. Even sides only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void MaxPool2x2BackwardFromCodes(in WindowGeometry g, ReadOnlySpan<byte> codes, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        if (g.Kernel != 2 || g.Stride != 2 || g.Height != 2 * oh || w != 2 * ow)
            throw new ArgumentException("MaxPool2x2BackwardFromCodes: 2 × 2 windows at stride 2 over even sides only.");
        if (codes.Length < g.Channels * g.OutputPlane || dy.Length < g.Channels * g.OutputPlane || dx.Length < g.Channels * g.InputPlane)
            throw new ArgumentException("MaxPool2x2BackwardFromCodes: a span is too short.");
        Vector256<int> duplicate4 = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3), top4 = Vector256.Create(0, 1, 0, 1, 0, 1, 0, 1), bottom4 = top4 + Vector256.Create(2);
        Vector128<int> top2 = Vector128.Create(0, 1, 0, 1), bottom2 = Vector128.Create(2, 3, 2, 3);
        bool avx2 = Avx2.IsSupported, vector = Vector128.IsHardwareAccelerated;
        fixed (byte* pc = codes)
        fixed (float* pdy = dy, pdx = dx)
        {
            for (int c = 0; c < g.Channels; c++)
            {
                for (int oy = 0; oy < oh; oy++)
                {
                    byte* code = pc + (long)c * g.OutputPlane + oy * ow;
                    float* gradients = pdy + (long)c * g.OutputPlane + oy * ow;
                    float* dTop = pdx + (long)c * g.InputPlane + 2 * oy * w, dBottom = dTop + w;
                    int ox = 0;
                    for (; avx2 && ox + 4 <= ow; ox += 4)
                    {
                        Vector256<int> k = Vector256.Shuffle(Avx2.ConvertToVector256Int32(Vector128.CreateScalar(*(uint*)(code + ox)).AsByte()), duplicate4);
                        Vector256<float> gradient = Vector256.Shuffle(Vector256.Create(Vector128.Load(gradients + ox), Vector128<float>.Zero), duplicate4);
                        Vector256<float> value = Vector256.ConditionalSelect(Vector256.Equals(k & Vector256.Create(PositiveBit), Vector256.Create(PositiveBit)).AsSingle(),
                            gradient, gradient * Vector256<float>.Zero);
                        Vector256<int> index = k & Vector256.Create(3);
                        (value & Vector256.Equals(index, top4).AsSingle()).Store(dTop + 2 * ox);
                        (value & Vector256.Equals(index, bottom4).AsSingle()).Store(dBottom + 2 * ox);
                    }
                    for (; vector && ox + 2 <= ow; ox += 2)
                    {
                        Vector128<int> k = Vector128.Create((int)code[ox], code[ox], code[ox + 1], code[ox + 1]);
                        Vector128<float> gradient = Vector128.Create(gradients[ox], gradients[ox], gradients[ox + 1], gradients[ox + 1]);
                        Vector128<float> value = Vector128.ConditionalSelect(Vector128.Equals(k & Vector128.Create(PositiveBit), Vector128.Create(PositiveBit)).AsSingle(),
                            gradient, gradient * Vector128<float>.Zero);
                        Vector128<int> index = k & Vector128.Create(3);
                        (value & Vector128.Equals(index, top2).AsSingle()).Store(dTop + 2 * ox);
                        (value & Vector128.Equals(index, bottom2).AsSingle()).Store(dBottom + 2 * ox);
                    }
                    for (; ox < ow; ox++)
                    {
                        int k = code[ox], index = k & 3;
                        float gradient = gradients[ox], value = (k & PositiveBit) != 0 ? gradient : 0f * gradient;
                        dTop[2 * ox] = index == 0 ? value : 0f;
                        dTop[2 * ox + 1] = index == 1 ? value : 0f;
                        dBottom[2 * ox] = index == 2 ? value : 0f;
                        dBottom[2 * ox + 1] = index == 3 ? value : 0f;
                    }
                }
            }
        }
    }

    /// <summary>Average pooling of one sample: y = (1/k²) Σ over the k × k window.</summary>
    public static void AvgPool(in WindowGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        int k = g.Kernel, s = g.Stride, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        float scale = 1f / (k * k);
        for (int c = 0; c < g.Channels; c++)
        {
            ReadOnlySpan<float> plane = x.Slice(c * g.InputPlane, g.InputPlane);
            Span<float> outPlane = y.Slice(c * g.OutputPlane, g.OutputPlane);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    int origin = oy * s * w + ox * s;
                    float sum = 0;
                    for (int ky = 0; ky < k; ky++) sum += ReductionKernels.Sum(plane.Slice(origin + ky * w, k));
                    outPlane[oy * ow + ox] = sum * scale;
                }
            }
        }
    }

    /// <summary>Average pooling backward: each input position receives (1/k²)·∂C/∂y of every window holding it. dx is overwritten.</summary>
    public static void AvgPoolBackward(in WindowGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int k = g.Kernel, s = g.Stride, w = g.Width, oh = g.OutputHeight, ow = g.OutputWidth;
        float scale = 1f / (k * k);
        dx.Clear();
        for (int c = 0; c < g.Channels; c++)
        {
            Span<float> dPlane = dx.Slice(c * g.InputPlane, g.InputPlane);
            ReadOnlySpan<float> dOut = dy.Slice(c * g.OutputPlane, g.OutputPlane);
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    float share = dOut[oy * ow + ox] * scale;
                    int origin = oy * s * w + ox * s;
                    for (int ky = 0; ky < k; ky++)
                    {
                        Span<float> line = dPlane.Slice(origin + ky * w, k);
                        TensorPrimitives.Add(line, share, line);
                    }
                }
            }
        }
    }
    /// <summary>What a pooling backward does to each gradient value before storing it, given the input value there.</summary>
    private interface IGradientMask
    {
        static abstract Vector128<float> Apply(Vector128<float> x, Vector128<float> gradient);

        static abstract Vector256<float> Apply(Vector256<float> x, Vector256<float> gradient);

        static abstract Vector512<float> Apply(Vector512<float> x, Vector512<float> gradient);

        static abstract float Apply(float x, float gradient);
    }

    /// <summary>Stores the gradient as it is.</summary>
    private readonly struct NoMask : IGradientMask
    {
        public static Vector128<float> Apply(Vector128<float> x, Vector128<float> gradient) => gradient;

        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> gradient) => gradient;

        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> gradient) => gradient;

        public static float Apply(float x, float gradient) => gradient;
    }

    /// <summary>ReLU's backward on x = the ReLU's output: the gradient where x &gt; 0, else the gradient times 0.</summary>
    private readonly struct ReluMask : IGradientMask
    {
        public static Vector128<float> Apply(Vector128<float> x, Vector128<float> gradient)
            => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), gradient, gradient * Vector128<float>.Zero);

        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> gradient)
            => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), gradient, gradient * Vector256<float>.Zero);

        public static Vector512<float> Apply(Vector512<float> x, Vector512<float> gradient)
            => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), gradient, gradient * Vector512<float>.Zero);

        public static float Apply(float x, float gradient) => x > 0f ? gradient : 0f * gradient;
    }
}
