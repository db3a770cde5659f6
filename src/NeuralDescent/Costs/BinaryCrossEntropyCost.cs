using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;
using NeuralDescent.Layers;

namespace NeuralDescent.Costs;

/// <summary>Binary cross-entropy: c(a, t) = −Σᵢ [tᵢ ln aᵢ + (1 − tᵢ) ln(1 − aᵢ)], averaged over the batch, for independent probabilities a ∈ (0, 1) (sigmoid outputs).</summary>
/// <remarks>
/// <para>After a <see cref="Sigmoid"/> layer the network uses the fused form on logits z:
/// c = Σᵢ [max(zᵢ, 0) − zᵢtᵢ + ln(1 + e^−|zᵢ|)], stable for any z, and ∂C/∂zᵢ = (aᵢ − tᵢ)/B (no σ′ factor, so no learning slowdown).</para>
/// <para>On its own, ∂C/∂aᵢ = (aᵢ − tᵢ) / (B·aᵢ(1 − aᵢ)), with a clamped to [ε, 1 − ε], ε = 1e-7.</para>
/// <example>a = 0.8, t = 1: C = −ln 0.8 ≈ 0.2231.</example>
/// </remarks>
public sealed class BinaryCrossEntropyCost : ICostFunction, IFusedOutputCost
{
    /// <summary>ε, the clamp applied to probabilities in the unfused form.</summary>
    public const float Epsilon = 1e-7f;

    /// <inheritdoc />
    public string Name => "BinaryCrossEntropy";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Value(ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double a = Math.Clamp(output[i], Epsilon, 1f - Epsilon);
            sum -= target[i] * Math.Log(a) + (1.0 - target[i]) * Math.Log(1.0 - a);
        }
        return (float)(sum / batchSize);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> outputGradient, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        CostGuard.CheckGradient(this, output.Length, outputGradient.Length);
        for (int i = 0; i < output.Length; i++)
        {
            float a = Math.Clamp(output[i], Epsilon, 1f - Epsilon);
            outputGradient[i] = (a - target[i]) / (batchSize * a * (1f - a));
        }
    }

    bool IFusedOutputCost.CanFuse(ILayer outputLayer) => outputLayer is ActivationLayer { Kind: ActivationKind.Sigmoid };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    float IFusedOutputCost.ValueFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize)
    {
        CostGuard.Check(this, logits.Length, target.Length, batchSize);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double z = logits[i];
            sum += Math.Max(z, 0) - z * target[i] + Math.Log(1 + Math.Exp(-Math.Abs(z)));
        }
        return (float)(sum / batchSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IFusedOutputCost.LogitGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> logitGradient, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        CostGuard.CheckGradient(this, output.Length, logitGradient.Length);
        ElementwiseKernels.ScaledDifference(output, target, 1f / batchSize, logitGradient);
    }
}
