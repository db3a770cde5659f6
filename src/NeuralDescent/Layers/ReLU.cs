using System.Runtime.CompilerServices;
using NeuralDescent.Initialization;
using NeuralDescent.Kernels;

namespace NeuralDescent.Layers;

/// <summary>The rectified linear unit, ReLU(x) = max(0, x).</summary>
/// <remarks>
/// Derivative: 1 for x &gt; 0, 0 otherwise (the subgradient 0 is used at x = 0). It does not saturate for x &gt; 0, so
/// gradients do not vanish through it. Backward reads the output (y &gt; 0 exactly when x &gt; 0), which lets a network
/// compute a <see cref="Dense"/> layer and the ReLU after it in one pass.
/// </remarks>
public sealed class ReLU : ActivationLayer
{
    /// <inheritdoc />
    public override LayerSpec Describe() => new("ReLU");

    /// <summary>He normal (He et al., 2015): ReLU halves the variance of what passes, and σ = √(2 / fanIn) makes up for it.</summary>
    public override Initializer? PreferredInitializerBefore => Initializer.HeNormal;

    internal override ActivationKind Kind => ActivationKind.ReLU;

    /// <inheritdoc />
    public override string Name => "ReLU";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => ElementwiseKernels.LeakyReluForward(input, output, 0f);

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => ElementwiseKernels.LeakyReluBackward(output, outputGradient, inputGradient, 0f);
}
