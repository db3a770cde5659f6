using System.Runtime.CompilerServices;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>
/// A convolution over a batch, split across the kernel threads by samples, with the scratch it needs (kept by the
/// layer, grown to the largest batch and thread count seen, then reused).
/// </summary>
/// <remarks>
/// <para>Forward: each thread takes a fixed range of samples; per sample, im2col then Y = W·X̃ + b as one GEMM on that
/// thread. Samples are independent, so the split cannot change a result.</para>
/// <para>Backward: the batch is cut into chunks of <see cref="ChunkSamples"/> samples whatever the thread count; each
/// chunk sums its samples' ∂C/∂W and ∂C/∂b into a buffer of its own, and the chunk sums are then added in chunk order.
/// Every sum is therefore taken in the same order for 1, 2 or 64 threads, and results are bitwise the same. A sample's
/// ∂C/∂W = G·X̃ᵀ reads X̃ᵀ straight from the sample into GEMM panels (<see cref="AddWeightGradient"/>) when the product
/// is large enough for the panel kernels, or, with AVX-512, stride 1 and input channels in multiples of 32, reads the
/// sample channels last in place, one kernel tap at a time (<see cref="AddWeightGradientByTaps"/>; same bits);
/// ∂C/∂x = col2im(Wᵀ·G), or under the same conditions, with output rows in whole 12-position tiles, built channels last
/// one kernel tap at a time (<see cref="InputGradientByTaps"/>; same bits).</para>
/// </remarks>
internal sealed unsafe class ConvolutionBatch : IParallelJob
{
    /// <summary>Samples per chunk of the weight-gradient sum: fixed, so the summation order never depends on the threads.</summary>
    public const int ChunkSamples = 8;

    /// <summary>
    /// Rows of ∂C/∂X̃ computed and folded back at a time: one M block of the GEMM (<see cref="MatrixKernels.Mc"/>), so the
    /// block (72 × OH·OW) is still in cache for col2im and the product reads G in place.
    /// </summary>
    private const int FoldRows = MatrixKernels.Mc;

    private float[][] _columns = [];
    private float[][] _columnGradients = [];
    private float[][] _packedGradients = [];
    private float[][] _packedPatches = [];
    private float[][] _maskedGradients = [];
    private float[][] _weightPartials = [];
    private float[][] _channelsLast = [];
    private float[][] _tapPartials = [];
    private float[][] _inputGradientsLast = [];
    private float[][] _packedGradientsTransposed = [];
    private float[] _tapWeights = [];
    private float[][] _biasPartials = [];

    private bool _backward, _packWeightGradient, _tapWeightGradient, _tapInputGradient;
    private WindowGeometry _g;
    private int _outChannels, _batch, _chunks;
    private bool _relu;
    private float* _x, _w, _bias, _y, _dy, _dx, _reluY;
    private Layers.IFusablePooling? _pooling;
    private byte* _codes;
    private int _pooledSize;

    /// <summary>y = W ⋆ x + b (then max(·, 0) when <paramref name="relu"/>) for <paramref name="batch"/> samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(in WindowGeometry g, int outChannels, int batch, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, bool relu)
    {
        int parts = Math.Min(WorkerPool.AvailableThreads, batch);
        Grow(ref _columns, parts, g.PatchSize * g.OutputPlane);
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            (_backward, _g, _outChannels, _batch, _relu) = (false, g, outChannels, batch, relu);
            _x = px;
            _w = pw;
            _bias = pb;
            _y = py;
            try
            {
                WorkerPool.Run(this, parts);
            }
            finally
            {
                _x = _w = _bias = _y = null;
            }
        }
    }

    /// <summary>
    /// Adds ∂C/∂W (into <paramref name="weightGradient"/>, or writes it when <paramref name="weightGradientIsZero"/>) and
    /// ∂C/∂b (added into <paramref name="biasGradient"/>), and writes ∂C/∂x when <paramref name="inputGradient"/> is not empty.
    /// With a <paramref name="reluOutput"/>, <paramref name="outputGradient"/> is ∂C/∂(ReLU output) and each sample's
    /// slice first goes through ReLU's backward (into a per-thread buffer). With <paramref name="pooling"/> too,
    /// <paramref name="outputGradient"/> is ∂C/∂(output of <paramref name="pooling"/>), the pooling layer after the ReLU, and each
    /// sample's ∂C/∂y comes from <see cref="Layers.IFusablePooling.BackwardThroughRelu"/> into that buffer, or, with
    /// <paramref name="windowCodes"/> instead of the ReLU's output (kept by a forward pass that pooled inside the
    /// convolution), from <see cref="Layers.IFusablePooling.BackwardFromWindowCodes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(in WindowGeometry g, int outChannels, int batch, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> outputGradient,
        ReadOnlySpan<float> reluOutput, Span<float> weightGradient, bool weightGradientIsZero, Span<float> biasGradient, Span<float> inputGradient,
        Layers.IFusablePooling? pooling = null, ReadOnlySpan<byte> windowCodes = default)
    {
        if (pooling is not null && reluOutput.IsEmpty && windowCodes.IsEmpty)
            throw new ArgumentException("A pooling layer after the ReLU needs the ReLU's output or its window codes.", nameof(reluOutput));
        int chunks = (batch + ChunkSamples - 1) / ChunkSamples;
        int parts = Math.Min(WorkerPool.AvailableThreads, chunks);
        int patch = g.PatchSize * g.OutputPlane, kBlock = MatrixKernels.KBlock(outChannels, g.OutputPlane);
        _packWeightGradient = MatrixKernels.UsesPanels(false, true, outChannels, g.PatchSize, g.OutputPlane);
        _tapWeightGradient = _packWeightGradient && UsesTaps(g);
        if (_tapWeightGradient)
        {
            Grow(ref _packedGradients, parts, MatrixKernels.PackedASize(outChannels, kBlock));
            Grow(ref _channelsLast, parts, (g.Height + 2 * g.Padding) * (g.Width + 2 * g.Padding) * g.Channels);
            Grow(ref _tapPartials, parts, outChannels * g.PatchSize);
        }
        else if (_packWeightGradient)
        {
            Grow(ref _packedGradients, parts, MatrixKernels.PackedASize(outChannels, kBlock));
            Grow(ref _packedPatches, parts, MatrixKernels.PackedBSize(g.PatchSize, kBlock));
        }
        else
        {
            Grow(ref _columns, parts, patch);
        }
        _tapInputGradient = !inputGradient.IsEmpty && _tapWeightGradient && UsesTapsForInputGradient(g, outChannels);
        if (_tapInputGradient)
        {
            Grow(ref _inputGradientsLast, parts, (g.Height + 2 * g.Padding) * (g.Width + 2 * g.Padding) * g.Channels);
            Grow(ref _packedGradientsTransposed, parts, MatrixKernels.PackedASize(g.OutputPlane, outChannels));
            if (_tapWeights.Length < outChannels * g.PatchSize) _tapWeights = new float[outChannels * g.PatchSize];
            WeightsByTap(g, outChannels, w, _tapWeights);
        }
        else if (!inputGradient.IsEmpty)
        {
            Grow(ref _columnGradients, parts, Math.Min(FoldRows, g.PatchSize) * g.OutputPlane);
        }
        if (!reluOutput.IsEmpty || !windowCodes.IsEmpty) Grow(ref _maskedGradients, parts, outChannels * g.OutputPlane);
        Grow(ref _weightPartials, chunks, outChannels * g.PatchSize);
        Grow(ref _biasPartials, chunks, outChannels);
        fixed (byte* pcodes = windowCodes)
        fixed (float* px = x, pw = w, pdy = outputGradient, pdx = inputGradient, pr = reluOutput)
        {
            _codes = windowCodes.IsEmpty ? null : pcodes;
            (_backward, _g, _outChannels, _batch, _chunks) = (true, g, outChannels, batch, chunks);
            _x = px;
            _w = pw;
            _dy = pdy;
            _dx = inputGradient.IsEmpty ? null : pdx;
            _reluY = reluOutput.IsEmpty ? null : pr;
            _pooling = pooling;
            _pooledSize = pooling is null ? 0 : pooling.SampleSizes.Output;
            try
            {
                WorkerPool.Run(this, parts);
            }
            finally
            {
                _x = _w = _dy = _dx = _reluY = null;
                _codes = null;
                _pooling = null;
            }
        }
        int weights = outChannels * g.PatchSize;
        for (int c = 0; c < chunks; c++)
        {
            ReadOnlySpan<float> partial = _weightPartials[c].AsSpan(0, weights);
            if (c == 0 && weightGradientIsZero) partial.CopyTo(weightGradient);
            else System.Numerics.Tensors.TensorPrimitives.Add(weightGradient, partial, weightGradient);
            System.Numerics.Tensors.TensorPrimitives.Add(biasGradient, _biasPartials[c].AsSpan(0, outChannels), biasGradient);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunPart(int part, int parts)
    {
        WindowGeometry g = _g;
        int k = g.PatchSize, p = g.OutputPlane, o = _outChannels;
        int inSize = g.Channels * g.InputPlane, outSize = o * p;
        var w = new ReadOnlySpan<float>(_w, o * k);
        if (!_backward)
        {
            var columns = new Span<float>(_columns[part], 0, k * p);
            var bias = new ReadOnlySpan<float>(_bias, o);
            int s0 = (int)((long)_batch * part / parts), s1 = (int)((long)_batch * (part + 1) / parts);
            for (int s = s0; s < s1; s++)
            {
                var y = new Span<float>(_y + (long)s * outSize, outSize);
                ConvolutionKernels.Im2Col(g, new ReadOnlySpan<float>(_x + (long)s * inSize, inSize), columns);
                // Y = W·X̃: (O × C·k·k)·(C·k·k × OH·OW), then + b per row (and the fused ReLU).
                MatrixKernels.Gemm(false, false, o, p, k, w, k, columns, p, y, p, accumulate: false);
                ConvolutionKernels.AddRowBias(y, bias, p, _relu);
            }
            return;
        }
        Span<float> columnGradient = _dx is null || _tapInputGradient ? default : new Span<float>(_columnGradients[part], 0, Math.Min(FoldRows, k) * p);
        int c0 = (int)((long)_chunks * part / parts), c1 = (int)((long)_chunks * (part + 1) / parts);
        for (int chunk = c0; chunk < c1; chunk++)
        {
            Span<float> weightPartial = _weightPartials[chunk].AsSpan(0, o * k);
            Span<float> biasPartial = _biasPartials[chunk].AsSpan(0, o);
            biasPartial.Clear();
            int first = chunk * ChunkSamples, end = Math.Min(_batch, first + ChunkSamples);
            for (int s = first; s < end; s++)
            {
                ReadOnlySpan<float> dy;
                if (_pooling is not null && _codes != null)
                {
                    // The pooling's and ReLU's backward for this sample, from the window codes the fused forward pass kept.
                    Span<float> masked = _maskedGradients[part].AsSpan(0, outSize);
                    _pooling.BackwardFromWindowCodes(new ReadOnlySpan<byte>(_codes + (long)s * _pooledSize, _pooledSize),
                        new ReadOnlySpan<float>(_dy + (long)s * _pooledSize, _pooledSize), masked);
                    dy = masked;
                }
                else if (_pooling is not null)
                {
                    // The pooling after the ReLU, then ReLU's backward, for this sample alone: the gradient stays in cache.
                    Span<float> masked = _maskedGradients[part].AsSpan(0, outSize);
                    _pooling.BackwardThroughRelu(new ReadOnlySpan<float>(_reluY + (long)s * outSize, outSize),
                        new ReadOnlySpan<float>(_dy + (long)s * _pooledSize, _pooledSize), masked);
                    dy = masked;
                }
                else if (_reluY != null)
                {
                    dy = new(_dy + (long)s * outSize, outSize);
                    Span<float> masked = _maskedGradients[part].AsSpan(0, outSize);
                    ElementwiseKernels.LeakyReluBackward(new ReadOnlySpan<float>(_reluY + (long)s * outSize, outSize), dy, masked, 0f);
                    dy = masked;
                }
                else
                {
                    dy = new(_dy + (long)s * outSize, outSize);
                }
                // ∂C/∂W of the chunk += G·X̃ᵀ: (O × OH·OW)·(OH·OW × C·k·k).
                var x = new ReadOnlySpan<float>(_x + (long)s * inSize, inSize);
                if (_tapWeightGradient)
                {
                    fixed (float* g0 = dy, packedG = _packedGradients[part], xl = _channelsLast[part], taps = _tapPartials[part])
                        AddWeightGradientByTaps(g, o, x, g0, packedG, xl, taps, accumulate: s != first);
                }
                else if (_packWeightGradient)
                {
                    fixed (float* g0 = dy, packedG = _packedGradients[part], packedX = _packedPatches[part], pw = weightPartial)
                        AddWeightGradient(g, o, x, g0, packedG, packedX, pw, accumulate: s != first);
                }
                else
                {
                    var columns = new Span<float>(_columns[part], 0, k * p);
                    ConvolutionKernels.Im2Col(g, x, columns);
                    MatrixKernels.Gemm(false, true, o, k, p, dy, p, columns, p, weightPartial, k, accumulate: s != first);
                }
                ConvolutionKernels.AccumulateRowSums(dy, biasPartial, p);
                if (_tapWeightGradient && s == end - 1) TapsToWeights(g, o, _tapPartials[part], weightPartial);
                if (_dx is null) continue;
                var dx = new Span<float>(_dx + (long)s * inSize, inSize);
                if (_tapInputGradient)
                {
                    fixed (float* g0 = dy, packedG = _packedGradientsTransposed[part], dxl = _inputGradientsLast[part], wt = _tapWeights)
                        InputGradientByTaps(g, o, g0, wt, packedG, dxl, dx);
                    continue;
                }
                // ∂C/∂X̃ = Wᵀ·G, folded back onto the input positions a block of rows at a time, while the block is in cache.
                dx.Clear();
                for (int r0 = 0; r0 < k; r0 += FoldRows)
                {
                    int rows = Math.Min(FoldRows, k - r0);
                    MatrixKernels.Gemm(true, false, rows, p, o, w[r0..], k, dy, p, columnGradient, p, accumulate: false);
                    ConvolutionKernels.Col2ImAdd(g, columnGradient, dx, r0, rows);
                }
            }
        }
    }

    /// <summary>
    /// ∂C/∂W (+)= G·X̃ᵀ for one sample, (O × OH·OW)·(OH·OW × C·k·k), without forming X̃: for each K block of
    /// <see cref="MatrixKernels.KBlock"/> positions, G's columns go into A panels and X̃ᵀ's rows into B panels straight from
    /// <paramref name="x"/> (<see cref="ConvolutionKernels.PackPatchesTransposed"/>). These are the panels, blocks and
    /// kernels <see cref="MatrixKernels.Gemm"/> uses when <see cref="MatrixKernels.UsesPanels"/> holds for the shape, so
    /// the sums are bitwise the im2col product's. Scratch: <paramref name="packedG"/> of
    /// <see cref="MatrixKernels.PackedASize"/>(O, block) floats, <paramref name="packedX"/> of
    /// <see cref="MatrixKernels.PackedBSize"/>(C·k·k, block).
    /// </summary>
    internal static void AddWeightGradient(in WindowGeometry g, int outChannels, ReadOnlySpan<float> x, float* dy, float* packedG, float* packedX,
        float* weightGradient, bool accumulate)
    {
        int p = g.OutputPlane, k = g.PatchSize, kBlock = MatrixKernels.KBlock(outChannels, p);
        for (int p0 = 0; p0 < p; p0 += kBlock)
        {
            int kc = Math.Min(kBlock, p - p0);
            MatrixKernels.PackAPanels(dy + p0, p, outChannels, kc, packedG);
            ConvolutionKernels.PackPatchesTransposed(g, x, p0, kc, packedX);
            MatrixKernels.MultiplyPrepacked(outChannels, k, kc, packedG, packedX, weightGradient, k, accumulate || p0 > 0);
        }
    }

    /// <summary>
    /// Whether <see cref="AddWeightGradientByTaps"/> computes ∂C/∂W for this geometry: AVX-512 kernels, stride 1, and
    /// input channels in whole 32-column tiles.
    /// </summary>
    internal static bool UsesTaps(in WindowGeometry g) => MatrixKernels.Vector512Enabled && g.Stride == 1 && g.Channels % 32 == 0;

    /// <summary>
    /// ∂C/∂W (+)= G·X̃ᵀ for one sample without forming or packing X̃: x goes channels last (and zero-padded) into
    /// <paramref name="channelsLast"/>, where the patch values of one kernel tap (ky, kx) for consecutive positions of an
    /// output row are consecutive rows of C floats; each tap's O × C block is then one product over B read in place, one
    /// output row per run (<see cref="MatrixKernels.MultiplyRowRuns"/>), into <paramref name="taps"/> laid out
    /// [tap][o][c]. The K blocks, G's panels, the tiles and the kernels are <see cref="AddWeightGradient"/>'s, and each
    /// B value is the X̃ entry it would have packed, so every element is summed in the same order: the same bits.
    /// <see cref="TapsToWeights"/> puts the sums in ∂C/∂W's O × (C·k·k) layout.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddWeightGradientByTaps(in WindowGeometry g, int outChannels, ReadOnlySpan<float> x, float* dy, float* packedG,
        float* channelsLast, float* taps, bool accumulate)
    {
        int p = g.OutputPlane, k = g.Kernel, c = g.Channels, ow = g.OutputWidth, wp = g.Width + 2 * g.Padding;
        int kBlock = MatrixKernels.KBlock(outChannels, p), block = outChannels * c;
        ConvolutionKernels.ToChannelsLast(g, x, new Span<float>(channelsLast, (g.Height + 2 * g.Padding) * wp * c));
        for (int p0 = 0; p0 < p; p0 += kBlock)
        {
            int kc = Math.Min(kBlock, p - p0), oy0 = p0 / ow, ox0 = p0 % ow;
            MatrixKernels.PackAPanels(dy + p0, p, outChannels, kc, packedG);
            var walk = new MatrixKernels.RowWalk(ow - ox0, ow, (wp - ow) * c);
            for (int ky = 0; ky < k; ky++)
            {
                for (int kx = 0; kx < k; kx++)
                {
                    float* b = channelsLast + ((long)(oy0 + ky) * wp + ox0 + kx) * c;
                    float* tap = taps + (long)(ky * k + kx) * block;
                    for (int c0 = 0; c0 < c; c0 += 32)
                        MatrixKernels.MultiplyRowRuns(outChannels, kc, packedG, b + c0, c, walk, tap + c0, c, accumulate || p0 > 0);
                }
            }
        }
    }

    /// <summary>
    /// Whether <see cref="InputGradientByTaps"/> computes ∂C/∂x: the weight gradient's conditions (<see cref="UsesTaps"/>),
    /// output rows in whole 12-position tiles, and the output channels (the products' K) in one K block.
    /// </summary>
    internal static bool UsesTapsForInputGradient(in WindowGeometry g, int outChannels) =>
        UsesTaps(g) && g.OutputWidth % 12 == 0 && outChannels <= MatrixKernels.KcMax;

    /// <summary>byTap[t, o, c] = w[o, c·k·k + t]: each kernel tap's O × C block of the weights, for <see cref="InputGradientByTaps"/>.</summary>
    internal static void WeightsByTap(in WindowGeometry g, int outChannels, ReadOnlySpan<float> w, Span<float> byTap) => MoveTaps(g, outChannels, w, byTap, intoTaps: true);

    /// <summary>
    /// ∂C/∂x = col2im(Wᵀ·G) for one sample without the column matrix: ∂C/∂x is built channels last (and padded) in
    /// <paramref name="inputGradientLast"/>, where the positions one kernel tap (ky, kx) reaches from an output row are
    /// consecutive rows of C floats, so each tap adds Gᵀ·W_tap (positions × O by O × C, <paramref name="byTap"/> from
    /// <see cref="WeightsByTap"/>) straight into them, twelve positions at a time
    /// (<see cref="MatrixKernels.MultiplyIntoRowRuns"/>); the result goes back to C × H × W in <paramref name="dx"/>.
    /// Each value is a chain over the O channels from zero, as in the Wᵀ·G product, and the taps are added in the
    /// order col2im adds them, onto zeros: the same bits as the GEMM and <see cref="ConvolutionKernels.Col2ImAdd"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void InputGradientByTaps(in WindowGeometry g, int outChannels, float* dy, float* byTap, float* packedGT, float* inputGradientLast, Span<float> dx)
    {
        int p = g.OutputPlane, k = g.Kernel, c = g.Channels, ow = g.OutputWidth, wp = g.Width + 2 * g.Padding, block = outChannels * c;
        var last = new Span<float>(inputGradientLast, (g.Height + 2 * g.Padding) * wp * c);
        last.Clear();
        MatrixKernels.PackAPanelsTransposed(dy, p, p, outChannels, packedGT);
        for (int ky = 0; ky < k; ky++)
        {
            for (int kx = 0; kx < k; kx++)
            {
                float* b = byTap + (long)(ky * k + kx) * block;
                float* target = inputGradientLast + ((long)ky * wp + kx) * c;
                for (int c0 = 0; c0 < c; c0 += 32)
                    MatrixKernels.MultiplyIntoRowRuns(p, outChannels, packedGT, b + c0, c, target + c0, c, ow, wp - ow);
            }
        }
        ConvolutionKernels.FromChannelsLast(g, last, dx);
    }

    /// <summary>weights[o, c·k·k + t] = taps[t, o, c]: the per-tap sums of <see cref="AddWeightGradientByTaps"/> in ∂C/∂W's layout.</summary>
    internal static void TapsToWeights(in WindowGeometry g, int outChannels, ReadOnlySpan<float> taps, Span<float> weights) => MoveTaps(g, outChannels, taps, weights, intoTaps: false);

    /// <summary>
    /// Moves values between the weights' O × (C·k·k) layout and the tap-major [t][o][c] one: into the taps when
    /// <paramref name="intoTaps"/>, back otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MoveTaps(in WindowGeometry g, int outChannels, ReadOnlySpan<float> from, Span<float> to, bool intoTaps)
    {
        int c = g.Channels, kk = g.Kernel * g.Kernel, block = outChannels * c;
        for (int o = 0; o < outChannels; o++)
        {
            for (int t = 0; t < kk; t++)
            {
                int byWeight = o * c * kk + t, byTap = t * block + o * c;
                if (intoTaps) for (int ch = 0; ch < c; ch++) to[byTap + ch] = from[byWeight + ch * kk];
                else for (int ch = 0; ch < c; ch++) to[byWeight + ch * kk] = from[byTap + ch];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Grow(ref float[][] buffers, int count, int length)
    {
        if (buffers.Length < count) Array.Resize(ref buffers, count);
        for (int i = 0; i < count; i++)
        {
            if (buffers[i] is null || buffers[i].Length < length) buffers[i] = new float[length];
        }
    }
}
