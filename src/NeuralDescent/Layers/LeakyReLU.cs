using System.Runtime.CompilerServices;
using NeuralDescent.Initialization;
using NeuralDescent.Kernels;

namespace NeuralDescent.Layers;

/// <summary>The leaky rectifier, f(x) = x for x &gt; 0 and α·x otherwise (Maas et al., 2013).</summary>
/// <remarks>Derivative: 1 for x &gt; 0, α otherwise. The small slope keeps units from dying.</remarks>
public sealed class LeakyReLU : ActivationLayer
{
    /// <summary>Creates a leaky ReLU.</summary>
    /// <param name="slope">α, the slope for negative inputs; default 0.01, PyTorch's default (Keras uses 0.3).</param>
    /// <exception cref="ArgumentOutOfRangeException">α is negative, not finite or ≥ 1.</exception>
    public LeakyReLU(float slope = 0.01f)
    {
        if (!float.IsFinite(slope) || slope < 0f || slope >= 1f)
            throw new ArgumentOutOfRangeException(nameof(slope), slope, "LeakyReLU slope α must be in [0, 1).");
        Slope = slope;
    }

    /// <summary>α, the slope for negative inputs.</summary>
    public float Slope { get; }

    /// <summary>He normal, as for ReLU.</summary>
    public override Initializer? PreferredInitializerBefore => Initializer.HeNormal;

    /// <inheritdoc />
    public override LayerSpec Describe() => new LayerSpec("LeakyReLU").With("slope", Slope);

    /// <inheritdoc />
    public override string Name => $"LeakyReLU({Slope})";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => ElementwiseKernels.LeakyReluForward(input, output, Slope);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => ElementwiseKernels.LeakyReluBackward(input, outputGradient, inputGradient, Slope);
}
