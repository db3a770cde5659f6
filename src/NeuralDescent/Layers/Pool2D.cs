using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Base of the parameter-free 2-D pooling layers: a k × k window moved by a stride over each channel.</summary>
/// <remarks>
/// Input C × H × W, output C × OH × OW with OH = (H − k)/s + 1. The window must tile the input exactly: (H − k) and
/// (W − k) must be multiples of s, so no row or column is silently left out.
/// </remarks>
public abstract class Pool2D : IFusablePooling
{
    private WindowGeometry _geometry;
    private bool _connected;

    /// <summary>Creates the pooling geometry.</summary>
    /// <param name="kernelSize">k, the side of the window.</param>
    /// <param name="stride">s, the step between windows; null for k (non-overlapping windows).</param>
    /// <exception cref="ArgumentException">k or s is not positive.</exception>
    protected Pool2D(int kernelSize, int? stride)
    {
        int s = stride ?? kernelSize;
        if (kernelSize <= 0) throw new ArgumentException($"{GetType().Name}: kernel size {kernelSize} must be positive.", nameof(kernelSize));
        if (s <= 0) throw new ArgumentException($"{GetType().Name}({kernelSize}): stride {s} must be positive.", nameof(stride));
        KernelSize = kernelSize;
        Stride = s;
    }

    /// <summary>k, the side of the window.</summary>
    public int KernelSize { get; }

    /// <summary>s, the step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc />
    public string Name => $"{GetType().Name}({KernelSize}" + (Stride != KernelSize ? $", stride {Stride})" : ")");

    /// <summary>Null: any C × H × W the window tiles.</summary>
    public Shape? InputShape => null;

    /// <summary>Empty: pooling has no parameters.</summary>
    public IReadOnlyList<Parameter> Parameters => [];

    /// <inheritdoc />
    public Shape Connect(Shape input)
    {
        if (input.Height < KernelSize || input.Width < KernelSize)
            throw new ArgumentException($"{Name} has a window larger than its input {input}");
        if ((input.Height - KernelSize) % Stride != 0 || (input.Width - KernelSize) % Stride != 0)
            throw new ArgumentException($"{Name} does not tile its input {input}: (side − {KernelSize}) must be a multiple of {Stride}");
        var geometry = new WindowGeometry(input.Channels, input.Height, input.Width, KernelSize, Stride, 0);
        _geometry = geometry;
        _connected = true;
        return new Shape(input.Channels, geometry.OutputHeight, geometry.OutputWidth);
    }

    /// <summary>Nothing to draw.</summary>
    /// <param name="random">Unused.</param>
    /// <param name="nextLayer">Unused.</param>
    public void Initialize(RandomGenerator random, ILayer? nextLayer)
    {
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training)
    {
        WindowGeometry g = Geometry();
        (int inSize, int outSize) = (g.Channels * g.InputPlane, g.Channels * g.OutputPlane);
        LayerGuard.CheckBatch(this, input.Length, inSize, output.Length, outSize, batchSize);
        PoolingBatch.Forward(g, IsMax, batchSize, input, output);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        if (inputGradient.IsEmpty) return;
        WindowGeometry g = Geometry();
        (int inSize, int outSize) = (g.Channels * g.InputPlane, g.Channels * g.OutputPlane);
        LayerGuard.CheckBatch(this, inputGradient.Length, inSize, outputGradient.Length, outSize, batchSize);
        LayerGuard.CheckBatch(this, input.Length, inSize, outputGradient.Length, outSize, batchSize);
        PoolingBatch.Backward(g, IsMax, batchSize, input, outputGradient, inputGradient);
    }

    (int Input, int Output) IFusablePooling.SampleSizes
    {
        get
        {
            WindowGeometry g = Geometry();
            return (g.Channels * g.InputPlane, g.Channels * g.OutputPlane);
        }
    }

    bool IFusablePooling.IsMaxPool2x2 => IsMax && KernelSize == 2 && Stride == 2;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusablePooling.BackwardThroughRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> reluInputGradient)
    {
        WindowGeometry g = Geometry();
        (int inSize, int outSize) = (g.Channels * g.InputPlane, g.Channels * g.OutputPlane);
        LayerGuard.CheckBatch(this, input.Length, inSize, outputGradient.Length, outSize, 1);
        LayerGuard.CheckBatch(this, reluInputGradient.Length, inSize, outputGradient.Length, outSize, 1);
        if (IsMax)
        {
            ConvolutionKernels.MaxPoolBackward(g, input, outputGradient, reluInputGradient, reluMask: true);
            return;
        }
        ConvolutionKernels.AvgPoolBackward(g, outputGradient, reluInputGradient);
        ElementwiseKernels.LeakyReluBackward(input, reluInputGradient, reluInputGradient, 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusablePooling.BackwardFromWindowCodes(ReadOnlySpan<byte> windowCodes, ReadOnlySpan<float> outputGradient, Span<float> reluInputGradient)
    {
        if (!((IFusablePooling)this).IsMaxPool2x2) throw new InvalidOperationException($"{Name} keeps no window codes: only 2 × 2 max pooling at stride 2 does.");
        ConvolutionKernels.MaxPool2x2BackwardFromCodes(Geometry(), windowCodes, outputGradient, reluInputGradient);
    }

    /// <summary>The spec: the type name with <c>kernel</c> and <c>stride</c>.</summary>
    /// <returns>The spec.</returns>
    public LayerSpec Describe() => new LayerSpec(GetType().Name).With("kernel", KernelSize).With("stride", Stride);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Max pooling (true) or average pooling (false).</summary>
    private protected abstract bool IsMax { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private WindowGeometry Geometry()
        => _connected ? _geometry : throw new InvalidOperationException($"{Name} is not part of a network yet: build a Network with it before running it.");
}
