using System.Runtime.CompilerServices;
using NeuralDescent.Initialization;
using NeuralDescent.Kernels;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>A fully connected (affine) layer: z = W·x + b.</summary>
/// <remarks>
/// <para>Shapes: weights W are outputSize × inputSize, row-major (PyTorch's <c>Linear</c> layout); biases b are outputSize.
/// For a batch X (batchSize × inputSize) the forward pass computes <c>Z = X·Wᵀ + 1·bᵀ</c>.</para>
/// <para>Backward, with G = ∂C/∂Z (batchSize × outputSize): <c>∂C/∂W += Gᵀ·X</c>, <c>∂C/∂b += Σ_rows G</c>,
/// <c>∂C/∂X = G·W</c>.</para>
/// </remarks>
public sealed class Dense : IFusesActivation
{
    private readonly Parameter _weights;
    private readonly Parameter _biases;
    private float[] _fusedGradient = [];
    private readonly Parameter[] _parameters;

    /// <summary>Creates a dense layer; its values are drawn when the network is built.</summary>
    /// <param name="inputSize">Inputs per sample (fan-in).</param>
    /// <param name="outputSize">Units, i.e. outputs per sample (fan-out).</param>
    /// <param name="initializer">How to draw initial values; null follows the next layer's <see cref="ILayer.PreferredInitializerBefore"/> (He normal before ReLU-like activations) and is Glorot uniform otherwise.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Dense(int inputSize, int outputSize, Initializer? initializer = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        InputSize = inputSize;
        OutputSize = outputSize;
        Initializer = initializer;
        try
        {
            _weights = new Parameter("weight", outputSize, inputSize);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Dense({inputSize}→{outputSize}): {e.Message}", nameof(outputSize), e);
        }
        _biases = new Parameter("bias", 1, outputSize);
        _parameters = [_weights, _biases];
    }

    /// <inheritdoc />
    public string Name => $"Dense({InputSize}→{OutputSize})";

    /// <summary>Inputs per sample (fan-in).</summary>
    public int InputSize { get; }

    /// <summary>Outputs per sample (fan-out, the number of units).</summary>
    public int OutputSize { get; }

    /// <summary>A vector of <see cref="InputSize"/> features.</summary>
    public Shape? InputShape => Shape.Features(InputSize);

    /// <inheritdoc />
    public Shape Connect(Shape input)
    {
        if (input != Shape.Features(InputSize))
        {
            string hint = input.Size == InputSize ? "; put a Flatten layer before it" : "";
            throw new ArgumentException($"{Name} expects {InputSize} features{hint}");
        }
        return Shape.Features(OutputSize);
    }

    /// <summary>The initializer given at construction, or null for the activation-based default.</summary>
    public Initializer? Initializer { get; }

    /// <summary>W, outputSize × inputSize, row-major.</summary>
    public Parameter Weights => _weights;

    /// <summary>b, outputSize values.</summary>
    public Parameter Biases => _biases;

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <inheritdoc />
    public void Initialize(RandomGenerator random, ILayer? nextLayer)
    {
        ArgumentNullException.ThrowIfNull(random);
        Initializer rule = Initializer ?? nextLayer?.PreferredInitializerBefore ?? Initializer.GlorotUniform;
        rule.FillWeights(_weights.Values, InputSize, OutputSize, random);
        rule.FillBiases(_biases.Values, random);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training) => Compute(input, output, batchSize, relu: false);

    bool IFusesActivation.CanFuse(ILayer next) => next is ActivationLayer { Kind: ActivationKind.ReLU };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesActivation.ForwardFused(ReadOnlySpan<float> input, Span<float> output, int batchSize) => Compute(input, output, batchSize, relu: true);

    /// <summary>The forward pass, optionally followed by ReLU in the same store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Compute(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool relu)
    {
        LayerGuard.CheckBatch(this, input.Length, InputSize, output.Length, OutputSize, batchSize);
        if (batchSize == 1)
        {
            MatrixKernels.Gemv(OutputSize, InputSize, _weights.Values, input, _biases.Values, output);
            if (relu) ElementwiseKernels.LeakyReluForward(output, output, 0f);
            return;
        }
        // Z = X·Wᵀ + 1·bᵀ (then max(Z, 0) when fused with a ReLU), the bias and rectifier applied in the GEMM's store.
        MatrixKernels.Gemm(false, true, batchSize, OutputSize, InputSize, input, InputSize, _weights.Values, InputSize, output, OutputSize, accumulate: false, bias: _biases.Values, relu: relu);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        LayerGuard.CheckBatch(this, input.Length, InputSize, outputGradient.Length, OutputSize, batchSize);
        BackwardFrom(input, default, outputGradient, default, inputGradient, batchSize);
    }

    /// <summary>
    /// G = ∂C/∂Z from dy (masked by a fused ReLU's output into <paramref name="maskedGradient"/> when
    /// <paramref name="reluOutput"/> is given) in the same pass as ∂C/∂b += Σ_rows G, then ∂C/∂W and ∂C/∂X.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardFrom(ReadOnlySpan<float> input, ReadOnlySpan<float> reluOutput, ReadOnlySpan<float> dy, Span<float> maskedGradient, Span<float> inputGradient, int batchSize)
    {
        Span<float> biasGradient = _biases.GradientForAccumulation(out bool biasesZero);
        if (biasesZero) biasGradient.Clear();
        ElementwiseKernels.ReluBackwardAndColumnSums(reluOutput, dy, maskedGradient, biasGradient, batchSize, OutputSize);
        ReadOnlySpan<float> outputGradient = reluOutput.IsEmpty ? dy : maskedGradient;
        // ∂C/∂W += Gᵀ·X: (outputSize × batch)·(batch × inputSize); written rather than added after a (lazy) ZeroGradient.
        Span<float> weightGradient = _weights.GradientForAccumulation(out bool weightsZero);
        MatrixKernels.Gemm(true, false, OutputSize, InputSize, batchSize, outputGradient, OutputSize, input, InputSize, weightGradient, InputSize, accumulate: !weightsZero);
        if (!inputGradient.IsEmpty)
        {
            LayerGuard.CheckBatch(this, inputGradient.Length, InputSize, outputGradient.Length, OutputSize, batchSize);
            // ∂C/∂X = G·W: (batch × outputSize)·(outputSize × inputSize).
            MatrixKernels.Gemm(false, false, batchSize, InputSize, OutputSize, outputGradient, OutputSize, _weights.Values, InputSize, inputGradient, InputSize, accumulate: false);
        }
    }

    /// <summary>ReLU's backward into a buffer of the layer's (training only, grown to the largest batch), then as <see cref="Backward"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusesActivation.BackwardFused(ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput, ReadOnlySpan<float> activationGradient, Span<float> inputGradient, int batchSize)
    {
        LayerGuard.CheckBatch(this, input.Length, InputSize, activationGradient.Length, OutputSize, batchSize);
        int length = batchSize * OutputSize;
        if (_fusedGradient.Length < length) _fusedGradient = new float[length];
        BackwardFrom(input, activationOutput[..length], activationGradient[..length], _fusedGradient.AsSpan(0, length), inputGradient, batchSize);
    }

    /// <inheritdoc />
    public LayerSpec Describe() => new LayerSpec("Dense").With("in", InputSize).With("out", OutputSize);

    /// <inheritdoc />
    public override string ToString() => Name;
}
