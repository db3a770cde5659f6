using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using NeuralDescent.Data;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Input standardization as a fixed first layer: yᵢ = (xᵢ − μᵢ) / σᵢ per feature, with μ and σ fitted on the training set.</summary>
/// <remarks>
/// <para>Centred, unit-scale inputs keep early gradients from vanishing or exploding (the tutorial's remedy). Because it is a
/// layer, the same μ and σ apply to every set the network sees, and they travel with the network.</para>
/// <para>Not trainable. Backward: ∂C/∂xᵢ = ∂C/∂yᵢ / σᵢ. A feature that is constant in the training set (σ = 0, such as
/// MNIST's always-blank corner pixels) gets σ = 1, so it is only centred (as scikit-learn's StandardScaler does).</para>
/// </remarks>
public sealed class Standardize : ILayer
{
    private readonly StateTensor _mean;
    private readonly StateTensor _std;
    private readonly StateTensor[] _state;

    /// <summary>Creates the layer from known statistics.</summary>
    /// <param name="mean">μ, one value per feature.</param>
    /// <param name="standardDeviation">σ, one positive value per feature.</param>
    public Standardize(float[] mean, float[] standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(standardDeviation);
        if (mean.Length == 0 || mean.Length != standardDeviation.Length)
            throw new ArgumentException($"mean ({mean.Length} values) and standardDeviation ({standardDeviation.Length}) must be non-empty and of equal length.", nameof(standardDeviation));
        for (int i = 0; i < standardDeviation.Length; i++)
        {
            if (!(standardDeviation[i] > 0) || !float.IsFinite(standardDeviation[i]) || !float.IsFinite(mean[i]))
                throw new ArgumentException($"Feature {i}: mean {mean[i]} and standard deviation {standardDeviation[i]} must be finite, the deviation positive.", nameof(standardDeviation));
        }
        _mean = new StateTensor("mean", mean.Length);
        _std = new StateTensor("std", mean.Length);
        mean.CopyTo(_mean.Values);
        standardDeviation.CopyTo(_std.Values);
        _state = [_mean, _std];
    }

    /// <summary>A layer of <paramref name="size"/> features with μ = 0 and σ = 1, whose statistics a model file then fills in.</summary>
    internal Standardize(int size)
    {
        _mean = new StateTensor("mean", size);
        _std = new StateTensor("std", size);
        _std.Values.Fill(1f);
        _state = [_mean, _std];
    }

    /// <summary>Fits μ and σ (population standard deviation, computed in double) on every sample of <paramref name="data"/>.</summary>
    /// <param name="data">The training set.</param>
    /// <returns>The fitted layer.</returns>
    public static Standardize Fit(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) throw new ArgumentException("Cannot fit standardization on an empty dataset.", nameof(data));
        int n = data.InputSize;
        var sum = new double[n];
        var sumSquares = new double[n];
        var row = new float[n];
        for (int s = 0; s < data.Count; s++)
        {
            data.CopyInput(s, row);
            for (int i = 0; i < n; i++)
            {
                sum[i] += row[i];
                sumSquares[i] += (double)row[i] * row[i];
            }
        }
        var mean = new float[n];
        var std = new float[n];
        for (int i = 0; i < n; i++)
        {
            double mu = sum[i] / data.Count;
            double variance = Math.Max(0, sumSquares[i] / data.Count - mu * mu);
            mean[i] = (float)mu;
            std[i] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return new Standardize(mean, std);
    }

    /// <inheritdoc />
    public string Name => $"Standardize({InputSize})";

    /// <summary>Features per sample.</summary>
    public int InputSize => _mean.Length;

    /// <summary>A vector of <see cref="InputSize"/> features.</summary>
    public Shape? InputShape => Shape.Features(InputSize);

    /// <inheritdoc />
    public Shape Connect(Shape input)
        => input.Size == InputSize ? input : throw new ArgumentException($"{Name} expects {InputSize} values per sample");

    /// <summary>μ per feature.</summary>
    public IReadOnlyList<float> Mean => _mean.Values.ToArray();

    /// <summary>σ per feature.</summary>
    public IReadOnlyList<float> StandardDeviation => _std.Values.ToArray();

    /// <summary>Empty: the statistics are fixed, not trained.</summary>
    public IReadOnlyList<Parameter> Parameters => [];

    /// <summary>μ (<c>mean</c>) and σ (<c>std</c>), saved with the model.</summary>
    public IReadOnlyList<StateTensor> State => _state;

    /// <inheritdoc />
    public LayerSpec Describe() => new LayerSpec("Standardize").With("size", InputSize);

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
        LayerGuard.CheckBatch(this, input.Length, InputSize, output.Length, InputSize, batchSize);
        for (int r = 0; r < batchSize; r++)
        {
            Span<float> y = output.Slice(r * InputSize, InputSize);
            TensorPrimitives.Subtract(input.Slice(r * InputSize, InputSize), _mean.Values, y);
            TensorPrimitives.Divide(y, _std.Values, y);
        }
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        if (inputGradient.IsEmpty) return;
        LayerGuard.CheckBatch(this, inputGradient.Length, InputSize, outputGradient.Length, InputSize, batchSize);
        for (int r = 0; r < batchSize; r++)
            TensorPrimitives.Divide(outputGradient.Slice(r * InputSize, InputSize), _std.Values, inputGradient.Slice(r * InputSize, InputSize));
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
