using System.Runtime.CompilerServices;
using NeuralDescent.Initialization;
using NeuralDescent.Kernels;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>A 2-D convolution (cross-correlation, as in every deep-learning library): y = W ⋆ x + b.</summary>
/// <remarks>
/// <para>Shapes: input C × H × W, output O × OH × OW with OH = ⌊(H + 2p − k)/s⌋ + 1 (likewise OW) for kernel size k,
/// stride s and zero padding p; rows and columns that do not fill a last window are left out, as in PyTorch. Weights W
/// are O × C × k × k (PyTorch's <c>nn.Conv2d</c> layout), biases b are O.</para>
/// <para>Forward: <c>y[o, i, j] = b[o] + Σ_c Σ_u Σ_v W[o, c, u, v] · x[c, i·s + u − p, j·s + v − p]</c> (x = 0 outside the input).
/// It runs as a matrix product per sample: the patches of x are unfolded into a (C·k·k) × (OH·OW) matrix X̃ (im2col)
/// and Y = W·X̃ + b·1ᵀ, with W viewed as O × (C·k·k); the kernel threads share the batch by samples.</para>
/// <para>Backward, with G = ∂C/∂Y (O × OH·OW per sample): <c>∂C/∂W += G·X̃ᵀ</c>, <c>∂C/∂b += Σ_columns G</c>,
/// <c>∂C/∂X̃ = Wᵀ·G</c>, folded back onto the input positions (col2im, the adjoint of im2col).</para>
/// <para>With a 3 × 3 kernel at stride 1 and at least four input channels, the forward pass runs Winograd's F(2×2, 3×3)
/// instead: each 2 × 2 output tile is <c>Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A</c> for its 4 × 4 input tile d, so the per-channel sums
/// become 16 matrix products with 2.25 times fewer multiply-adds. The transforms use only additions and halvings, so the
/// result agrees with the direct sum to a few float roundings; the backward pass is the im2col one above.</para>
/// <para>In a network, a ReLU after the convolution runs inside it (in the store of the forward pass, and per sample in
/// the backward pass), and so does a pooling layer after that ReLU: backward, each sample's ∂C/∂y is formed from the
/// pooling's gradient while it is in cache; forward, a Winograd convolution followed by 2 × 2 max pooling pools each
/// output tile (one window) in its output transform and does not store the unpooled output: training keeps one byte
/// per window instead (which value is the maximum, and whether it is positive), all the backward pass needs. Both
/// give bitwise what the layers one by one give.</para>
/// <para>Initialization: fanIn = C·k·k, fanOut = O·k·k; by default the next layer's preference (He before ReLU), else Glorot uniform.</para>
/// </remarks>
public sealed class Conv2D : IFusesPooling
{
    private readonly Parameter _weights;
    private readonly Parameter _biases;
    private readonly Parameter[] _parameters;
    private WindowGeometry _geometry;
    private WinogradGeometry _winogradGeometry;
    private bool _connected;
    private readonly Kernels.Common.ScratchPool<ConvolutionBatch> _scratch = new();
    private readonly Kernels.Common.ScratchPool<WinogradBatch> _winogradScratch = new();

    /// <summary>Fewest input channels for which a 3 × 3 stride-1 convolution goes through Winograd's algorithm.</summary>
    internal const int WinogradMinChannels = 4;

    /// <summary>Creates a convolution; its weights are drawn when the network is built.</summary>
    /// <param name="inputChannels">C, channels of the input.</param>
    /// <param name="outputChannels">O, number of filters.</param>
    /// <param name="kernelSize">k, the side of the square window.</param>
    /// <param name="stride">s, the step between windows; default 1.</param>
    /// <param name="padding">p, zeros added on each side of the input; default 0.</param>
    /// <param name="initializer">How to draw the weights; null follows the next layer's preference, else Glorot uniform.</param>
    /// <exception cref="ArgumentException">A channel count, the kernel size or the stride is not positive, or the padding is negative or not smaller than the kernel.</exception>
    public Conv2D(int inputChannels, int outputChannels, int kernelSize, int stride = 1, int padding = 0, Initializer? initializer = null)
    {
        if (inputChannels <= 0 || outputChannels <= 0)
            throw new ArgumentException($"Conv2D({inputChannels}→{outputChannels}): channel counts must be positive.", inputChannels <= 0 ? nameof(inputChannels) : nameof(outputChannels));
        if (kernelSize <= 0) throw new ArgumentException($"Conv2D({inputChannels}→{outputChannels}): kernel size {kernelSize} must be positive.", nameof(kernelSize));
        if (stride <= 0) throw new ArgumentException($"Conv2D({inputChannels}→{outputChannels}, {kernelSize}×{kernelSize}): stride {stride} must be positive.", nameof(stride));
        if (padding < 0 || padding >= kernelSize)
            throw new ArgumentException($"Conv2D({inputChannels}→{outputChannels}, {kernelSize}×{kernelSize}): padding {padding} must be in [0, {kernelSize - 1}].", nameof(padding));
        InputChannels = inputChannels;
        OutputChannels = outputChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Initializer = initializer;
        try
        {
            _weights = new Parameter("weight", outputChannels, inputChannels, kernelSize, kernelSize);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Conv2D({inputChannels}→{outputChannels}, {kernelSize}×{kernelSize}): {e.Message}", nameof(outputChannels), e);
        }
        _biases = new Parameter("bias", outputChannels);
        _parameters = [_weights, _biases];
    }

    /// <summary>C, input channels.</summary>
    public int InputChannels { get; }

    /// <summary>O, output channels (filters).</summary>
    public int OutputChannels { get; }

    /// <summary>k, the side of the window.</summary>
    public int KernelSize { get; }

    /// <summary>s, the step between windows.</summary>
    public int Stride { get; }

    /// <summary>p, zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Whether the forward pass runs Winograd's F(2×2, 3×3) (a 3 × 3 kernel, stride 1, at least
    /// <see cref="WinogradMinChannels"/> input channels) rather than im2col and one matrix product.</summary>
    internal bool UsesWinograd => KernelSize == 3 && Stride == 1 && InputChannels >= WinogradMinChannels && !ForceIm2Col;

    /// <summary>Keeps this layer on the im2col path (benchmarks compare the two algorithms); set it before the layer joins a
    /// network, which decides what to fuse when it is built.</summary>
    internal bool ForceIm2Col { get; set; }

    /// <summary>The initializer given at construction, or null for the default.</summary>
    public Initializer? Initializer { get; }

    /// <summary>W, O × C × k × k.</summary>
    public Parameter Weights => _weights;

    /// <summary>b, O values.</summary>
    public Parameter Biases => _biases;

    /// <inheritdoc />
    public string Name => $"Conv2D({InputChannels}→{OutputChannels}, {KernelSize}×{KernelSize}"
        + (Stride != 1 ? $", stride {Stride}" : "") + (Padding != 0 ? $", padding {Padding}" : "") + ")";

    /// <summary>Null: any height and width with <see cref="InputChannels"/> channels.</summary>
    public Shape? InputShape => null;

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <inheritdoc />
    public Shape Connect(Shape input)
    {
        if (input.Channels != InputChannels)
            throw new ArgumentException($"{Name} expects {InputChannels} input channels");
        if (input.Height + 2 * Padding < KernelSize || input.Width + 2 * Padding < KernelSize)
            throw new ArgumentException($"{Name} has a kernel larger than its padded input ({input.Height + 2 * Padding}×{input.Width + 2 * Padding})");
        var geometry = new WindowGeometry(input.Channels, input.Height, input.Width, KernelSize, Stride, Padding);
        long patches = (long)geometry.PatchSize * geometry.OutputPlane;
        if (patches > Array.MaxLength)
            throw new ArgumentException($"{Name} on {input} unfolds into {geometry.PatchSize}×{geometry.OutputPlane} values, more than an array holds");
        var output = new Shape(OutputChannels, geometry.OutputHeight, geometry.OutputWidth);
        _geometry = geometry;
        if (KernelSize == 3 && Stride == 1) _winogradGeometry = new WinogradGeometry(input.Channels, input.Height, input.Width, Padding);
        _connected = true;
        return output;
    }

    /// <inheritdoc />
    public void Initialize(RandomGenerator random, ILayer? nextLayer)
    {
        ArgumentNullException.ThrowIfNull(random);
        Initializer rule = Initializer ?? nextLayer?.PreferredInitializerBefore ?? Initializer.GlorotUniform;
        int area = KernelSize * KernelSize;
        rule.FillWeights(_weights.Values, InputChannels * area, OutputChannels * area, random);
        rule.FillBiases(_biases.Values, random);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training) => Compute(input, output, batchSize, relu: false);

    bool IFusesActivation.CanFuse(ILayer next) => next is ActivationLayer { Kind: ActivationKind.ReLU };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesActivation.ForwardFused(ReadOnlySpan<float> input, Span<float> output, int batchSize) => Compute(input, output, batchSize, relu: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Compute(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool relu)
    {
        WindowGeometry g = Geometry();
        int inSize = g.Channels * g.InputPlane, outSize = OutputChannels * g.OutputPlane;
        LayerGuard.CheckBatch(this, input.Length, inSize, output.Length, outSize, batchSize);
        if (UsesWinograd)
        {
            WinogradBatch winograd = _winogradScratch.TryRent() ?? new WinogradBatch();
            try
            {
                winograd.Forward(_winogradGeometry, OutputChannels, batchSize, input, _weights.Values, _biases.Values, output, relu);
            }
            finally
            {
                _winogradScratch.Return(winograd);
            }
            return;
        }
        ConvolutionBatch scratch = _scratch.TryRent() ?? new ConvolutionBatch(); // one per concurrent call
        try
        {
            scratch.Forward(g, OutputChannels, batchSize, input, _weights.Values, _biases.Values, output, relu);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
        => BackwardCore(input, default, outputGradient, inputGradient, batchSize);

    /// <summary>ReLU's backward applied to each sample's gradient inside the convolution's backward pass, while it is in cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesActivation.BackwardFused(ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput, ReadOnlySpan<float> activationGradient, Span<float> inputGradient, int batchSize)
    {
        if (activationOutput.Length < activationGradient.Length) throw new ArgumentException($"{Name}: the ReLU output is shorter than its gradient.", nameof(activationOutput));
        BackwardCore(input, activationOutput, activationGradient, inputGradient, batchSize);
    }

    bool IFusesPooling.CanFuseBackward(ILayer activation, IFusablePooling pooling) => activation is ActivationLayer { Kind: ActivationKind.ReLU };

    /// <summary>With Winograd, each 2 × 2 output tile is one 2 × 2 max window: the output transform pools it while it is in registers.</summary>
    bool IFusesPooling.CanFuseForward(ILayer activation, IFusablePooling pooling)
        => activation is ActivationLayer { Kind: ActivationKind.ReLU } && pooling.IsMaxPool2x2 && UsesWinograd
            && _winogradGeometry.OutputHeight % 2 == 0 && _winogradGeometry.OutputWidth % 2 == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesPooling.ForwardFusedThrough(IFusablePooling pooling, ReadOnlySpan<float> input, Span<byte> windowCodes, Span<float> pooledOutput, int batchSize)
    {
        WindowGeometry g = Geometry();
        int inSize = g.Channels * g.InputPlane, outSize = OutputChannels * g.OutputPlane;
        CheckPoolingInside(pooling);
        LayerGuard.CheckBatch(this, input.Length, inSize, pooledOutput.Length, outSize / 4, batchSize);
        if (!windowCodes.IsEmpty && windowCodes.Length < (long)batchSize * outSize / 4)
            throw new ArgumentException($"{Name}: {windowCodes.Length} bytes of window codes, fewer than {batchSize}×{outSize / 4}.", nameof(windowCodes));
        WinogradBatch winograd = _winogradScratch.TryRent() ?? new WinogradBatch();
        try
        {
            winograd.Forward(_winogradGeometry, OutputChannels, batchSize, input, _weights.Values, _biases.Values, default, relu: true, pooledOutput, windowCodes);
        }
        finally
        {
            _winogradScratch.Return(winograd);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckPoolingInside(IFusablePooling pooling)
    {
        WindowGeometry g = Geometry();
        int outSize = OutputChannels * g.OutputPlane;
        if (!UsesWinograd || !pooling.IsMaxPool2x2 || pooling.SampleSizes != (outSize, outSize / 4) || g.OutputHeight % 2 != 0 || g.OutputWidth % 2 != 0)
            throw new ArgumentException($"{Name} cannot pool inside its passes for {pooling.Name}.", nameof(pooling));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesPooling.BackwardFusedThroughCodes(IFusablePooling pooling, ReadOnlySpan<float> input, ReadOnlySpan<byte> windowCodes,
        ReadOnlySpan<float> poolingGradient, Span<float> inputGradient, int batchSize)
    {
        CheckPoolingInside(pooling);
        int pooled = pooling.SampleSizes.Output;
        if (windowCodes.Length < (long)batchSize * pooled)
            throw new ArgumentException($"{Name}: {windowCodes.Length} bytes of window codes, fewer than {batchSize}×{pooled}.", nameof(windowCodes));
        BackwardCore(input, default, poolingGradient, inputGradient, batchSize, pooling, windowCodes);
    }

    /// <summary>The pooling after the ReLU, the ReLU and this layer go back one sample at a time inside this layer's backward pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesPooling.BackwardFusedThrough(IFusablePooling pooling, ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput,
        ReadOnlySpan<float> poolingGradient, Span<float> inputGradient, int batchSize)
    {
        WindowGeometry g = Geometry();
        (int poolIn, int poolOut) = pooling.SampleSizes;
        int outSize = OutputChannels * g.OutputPlane;
        if (poolIn != outSize)
            throw new ArgumentException($"{Name}: {pooling.Name} takes {poolIn} values per sample, but this layer gives {outSize}.", nameof(pooling));
        LayerGuard.CheckBatch(pooling, activationOutput.Length, poolIn, poolingGradient.Length, poolOut, batchSize);
        BackwardCore(input, activationOutput, poolingGradient, inputGradient, batchSize, pooling);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardCore(ReadOnlySpan<float> input, ReadOnlySpan<float> reluOutput, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize,
        IFusablePooling? pooling = null, ReadOnlySpan<byte> windowCodes = default)
    {
        WindowGeometry g = Geometry();
        int inSize = g.Channels * g.InputPlane, outSize = OutputChannels * g.OutputPlane;
        int gradientSize = pooling is null ? outSize : pooling.SampleSizes.Output;
        LayerGuard.CheckBatch(this, input.Length, inSize, outputGradient.Length, gradientSize, batchSize);
        if (!inputGradient.IsEmpty) LayerGuard.CheckBatch(this, inputGradient.Length, inSize, outputGradient.Length, gradientSize, batchSize);
        Span<float> weightGradient = _weights.GradientForAccumulation(out bool weightsZero);
        Span<float> biasGradient = _biases.GradientForAccumulation(out bool biasesZero);
        if (biasesZero) biasGradient.Clear();
        ConvolutionBatch scratch = _scratch.TryRent() ?? new ConvolutionBatch();
        try
        {
            scratch.Backward(g, OutputChannels, batchSize, input, _weights.Values, outputGradient, reluOutput, weightGradient, weightsZero, biasGradient, inputGradient, pooling, windowCodes);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <inheritdoc />
    public LayerSpec Describe() => new LayerSpec("Conv2D").With("in_channels", InputChannels).With("out_channels", OutputChannels)
        .With("kernel", KernelSize).With("stride", Stride).With("padding", Padding);

    /// <inheritdoc />
    public override string ToString() => Name;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WindowGeometry Geometry()
        => _connected ? _geometry : throw new InvalidOperationException($"{Name} is not part of a network yet: build a Network with it (which connects it to its input shape) before running it.");
}
