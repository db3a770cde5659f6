using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>
/// Batch normalization (Ioffe and Szegedy, 2015): y = γ·(x − μ)/√(σ² + ε) + β per feature of a vector input, or per
/// channel of a C × H × W input (PyTorch's <c>BatchNorm1d</c> and <c>BatchNorm2d</c>).
/// </summary>
/// <remarks>
/// <para>Training: μ and σ² are the mean and biased variance of the batch, over the n = batchSize (·H·W) values of each
/// feature or channel; the running statistics then move towards them, <c>running_mean ← (1 − m)·running_mean + m·μ</c>
/// and <c>running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)</c> (the unbiased variance, as PyTorch does).
/// Inference (<c>Predict</c>, <c>Evaluate</c>): μ and σ² are the running statistics, so each sample is treated alone.</para>
/// <para>Backward in training, with x̂ = (x − μ)/√(σ² + ε) and g = ∂C/∂y: <c>∂C/∂γ += Σ g·x̂</c>, <c>∂C/∂β += Σ g</c>,
/// <c>∂C/∂x = γ/(n·√(σ² + ε)) · (n·g − Σ g − x̂·Σ g·x̂)</c>; after an inference forward pass, <c>∂C/∂x = γ·g/√(running_var + ε)</c>.</para>
/// <para>Parameters γ (<c>weight</c>, starts at 1) and β (<c>bias</c>, starts at 0); state <c>running_mean</c> (starts at 0)
/// and <c>running_var</c> (starts at 1), saved with the model and in checkpoints.</para>
/// </remarks>
public sealed unsafe class BatchNorm : ILayer, Kernels.Common.IRangeWork
{
    private readonly Parameter _gamma;
    private readonly Parameter _beta;
    private readonly StateTensor _runningMean;
    private readonly StateTensor _runningVar;
    private readonly Parameter[] _parameters;
    private readonly StateTensor[] _state;
    private readonly float[] _mean;
    private readonly float[] _inverseStd;
    private int _plane;
    private bool _lastForwardTraining;

    // The training passes split their channels across the kernel threads (RangeParallel); these describe the pass under
    // way. Only the training thread runs them, so inference, which never touches them, stays safe to share.
    private bool _backwardPass;
    private int _batch;
    private float* _x, _y, _g, _dx;

    /// <summary>Creates a batch normalization layer.</summary>
    /// <param name="features">C: the features of a vector input, or the channels of an image input.</param>
    /// <param name="momentum">m, how far the running statistics move towards each batch's; default 0.1 (PyTorch's).</param>
    /// <param name="epsilon">ε, added to the variance; default 1e-5 (PyTorch's).</param>
    /// <exception cref="ArgumentException">C is not positive, m is outside (0, 1], or ε is not positive and finite.</exception>
    public BatchNorm(int features, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        if (features <= 0) throw new ArgumentException($"BatchNorm({features}): the number of features must be positive.", nameof(features));
        if (!(momentum > 0 && momentum <= 1)) throw new ArgumentException($"BatchNorm({features}): momentum {momentum} must be in (0, 1].", nameof(momentum));
        if (!(epsilon > 0 && float.IsFinite(epsilon))) throw new ArgumentException($"BatchNorm({features}): epsilon {epsilon} must be positive and finite.", nameof(epsilon));
        Features = features;
        Momentum = momentum;
        Epsilon = epsilon;
        _gamma = new Parameter("weight", features);
        _beta = new Parameter("bias", features);
        _runningMean = new StateTensor("running_mean", features);
        _runningVar = new StateTensor("running_var", features);
        _runningVar.Values.Fill(1f);
        _parameters = [_gamma, _beta];
        _state = [_runningMean, _runningVar];
        _mean = new float[features];
        _inverseStd = new float[features];
    }

    /// <summary>C, the number of features or channels normalized.</summary>
    public int Features { get; }

    /// <summary>m, the running statistics' momentum.</summary>
    public float Momentum { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>γ, the scale per feature.</summary>
    public Parameter Scale => _gamma;

    /// <summary>β, the shift per feature.</summary>
    public Parameter Shift => _beta;

    /// <summary>The running mean per feature (used in inference).</summary>
    public ReadOnlySpan<float> RunningMean => _runningMean.Values;

    /// <summary>The running (unbiased) variance per feature (used in inference).</summary>
    public ReadOnlySpan<float> RunningVariance => _runningVar.Values;

    /// <inheritdoc />
    public string Name => $"BatchNorm({Features})";

    /// <summary>Null: C features, or C channels of any height and width.</summary>
    public Shape? InputShape => null;

    /// <inheritdoc />
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary><c>running_mean</c> and <c>running_var</c>.</summary>
    public IReadOnlyList<StateTensor> State => _state;

    /// <inheritdoc />
    public Shape Connect(Shape input)
    {
        if (input.Channels != Features) throw new ArgumentException($"{Name} expects {Features} {(input.IsFeatures ? "features" : "channels")}");
        _plane = input.Height * input.Width;
        return input;
    }

    /// <summary>γ ← 1, β ← 0 (the running statistics are left as they are).</summary>
    /// <param name="random">Unused.</param>
    /// <param name="nextLayer">Unused.</param>
    public void Initialize(RandomGenerator random, ILayer? nextLayer)
    {
        _gamma.Values.Fill(1f);
        _beta.Values.Clear();
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training)
    {
        int plane = Plane(), width = Features * plane;
        LayerGuard.CheckBatch(this, input.Length, width, output.Length, width, batchSize);
        if (training)
        {
            fixed (float* x = input, y = output)
            {
                _backwardPass = false;
                _batch = batchSize;
                _x = x;
                _y = y;
                try
                {
                    Kernels.Common.RangeParallel.Run(this, Features, minimumPerPart: 4);
                }
                finally
                {
                    _x = _y = null;
                }
            }
            _lastForwardTraining = true;
        }
        else
        {
            // Inference reads only the running statistics, so concurrent predictions share the layer safely.
            _lastForwardTraining = false;
            Normalize(input, output, batchSize, plane, training: false);
        }
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        int plane = Plane(), width = Features * plane;
        LayerGuard.CheckBatch(this, input.Length, width, outputGradient.Length, width, batchSize);
        if (!inputGradient.IsEmpty) LayerGuard.CheckBatch(this, inputGradient.Length, width, outputGradient.Length, width, batchSize);
        _ = _gamma.Gradient; // materializes a lazily zeroed gradient before the threads add into it
        _ = _beta.Gradient;
        fixed (float* x = input, g = outputGradient, dx = inputGradient)
        {
            _backwardPass = true;
            _batch = batchSize;
            _x = x;
            _g = g;
            _dx = inputGradient.IsEmpty ? null : dx;
            try
            {
                Kernels.Common.RangeParallel.Run(this, Features, minimumPerPart: 4);
            }
            finally
            {
                _x = _g = _dx = null;
            }
        }
    }

    void Kernels.Common.IRangeWork.Run(int start, int end)
    {
        int plane = _plane, width = Features * plane, batch = _batch;
        long length = (long)batch * width;
        var input = new ReadOnlySpan<float>(_x, (int)length);
        if (!_backwardPass)
        {
            var output = new Span<float>(_y, (int)length);
            long n = (long)batch * plane;
            Span<float> runningMean = _runningMean.Values, runningVar = _runningVar.Values;
            for (int c = start; c < end; c++)
            {
                // Each plane is summed in float lanes, the planes in double.
                double sum = 0;
                for (int s = 0; s < batch; s++) sum += ReductionKernels.Sum(input.Slice(s * width + c * plane, plane));
                double mean = sum / n, squares = 0;
                for (int s = 0; s < batch; s++) squares += ReductionKernels.SumOfSquaredDeviations(input.Slice(s * width + c * plane, plane), (float)mean);
                double variance = squares / n;
                _mean[c] = (float)mean;
                _inverseStd[c] = (float)(1.0 / Math.Sqrt(variance + Epsilon));
                runningMean[c] = (float)((1 - Momentum) * runningMean[c] + Momentum * mean);
                runningVar[c] = (float)((1 - Momentum) * runningVar[c] + Momentum * (n > 1 ? variance * n / (n - 1) : variance));
                NormalizeChannel(input, output, batch, plane, c, training: true);
            }
            return;
        }
        var outputGradient = new ReadOnlySpan<float>(_g, (int)length);
        Span<float> inputGradient = _dx == null ? default : new Span<float>(_dx, (int)length);
        Span<float> gammaGradient = _gamma.Gradient, betaGradient = _beta.Gradient;
        ReadOnlySpan<float> gamma = _gamma.Values;
        double count = (double)batch * plane;
        for (int c = start; c < end; c++)
        {
            (float mu, float r) = Statistics(c, _lastForwardTraining);
            double sumG = 0, sumGx = 0; // Σ g and Σ g·x̂ = r·Σ g·(x − μ)
            for (int s = 0; s < batch; s++)
            {
                int offset = s * width + c * plane;
                ReadOnlySpan<float> x = input.Slice(offset, plane), g = outputGradient.Slice(offset, plane);
                sumG += ReductionKernels.Sum(g);
                sumGx += ReductionKernels.CenteredDot(x, mu, g);
            }
            sumGx *= r;
            gammaGradient[c] += (float)sumGx;
            betaGradient[c] += (float)sumG;
            if (inputGradient.IsEmpty) continue;
            // ∂C/∂x = γr·(g − mean g − x̂·mean(g·x̂)) = a·g + b·x + c, with x̂ = (x − μ)·r; after an inference pass the means are 0.
            float scale = gamma[c] * r;
            double meanG = _lastForwardTraining ? sumG / count : 0, meanGx = _lastForwardTraining ? sumGx / count : 0;
            float b = (float)(-scale * r * meanGx), shift = (float)(scale * (mu * r * meanGx - meanG));
            for (int s = 0; s < batch; s++)
            {
                int offset = s * width + c * plane;
                ReductionKernels.Affine(outputGradient.Slice(offset, plane), scale, input.Slice(offset, plane), b, shift, inputGradient.Slice(offset, plane));
            }
        }
    }

    /// <inheritdoc />
    public LayerSpec Describe() => new LayerSpec("BatchNorm").With("features", Features).With("momentum", Momentum).With("epsilon", Epsilon);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>μ and 1/√(σ² + ε) of feature <paramref name="c"/>: the last training batch's, or the running ones.</summary>
    private (float Mean, float InverseStd) Statistics(int c, bool training)
        => training ? (_mean[c], _inverseStd[c]) : (_runningMean.Values[c], (float)(1.0 / Math.Sqrt(Math.Max(0f, _runningVar.Values[c]) + Epsilon)));

    private void Normalize(ReadOnlySpan<float> input, Span<float> output, int batchSize, int plane, bool training)
    {
        for (int c = 0; c < Features; c++) NormalizeChannel(input, output, batchSize, plane, c, training);
    }

    private void NormalizeChannel(ReadOnlySpan<float> input, Span<float> output, int batchSize, int plane, int c, bool training)
    {
        int width = Features * plane;
        (float mean, float inverseStd) = Statistics(c, training);
        float scale = _gamma.Values[c] * inverseStd, shift = _beta.Values[c] - mean * scale;
        for (int s = 0; s < batchSize; s++)
        {
            int offset = s * width + c * plane;
            ReductionKernels.Affine(input.Slice(offset, plane), scale, default, 0f, shift, output.Slice(offset, plane));
        }
    }

    private int Plane() => _plane != 0 ? _plane : throw new InvalidOperationException($"{Name} is not part of a network yet.");
}
