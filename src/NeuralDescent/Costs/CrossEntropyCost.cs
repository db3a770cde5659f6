using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;
using NeuralDescent.Layers;

namespace NeuralDescent.Costs;

/// <summary>Categorical cross-entropy: c(a, t) = −Σᵢ tᵢ ln aᵢ, averaged over the batch, for a probability vector a (softmax output).</summary>
/// <remarks>
/// <para>After a <see cref="Softmax"/> layer (the usual case) the network uses the fused form: with logits z,
/// c = −Σᵢ tᵢ (zᵢ − logΣⱼexp zⱼ), computed with the max shift (exact for logits of ±1000, where ln aᵢ would be ln 0),
/// and ∂C/∂zᵢ = (aᵢ − tᵢ)/B when Σᵢ tᵢ = 1.</para>
/// <para>On its own, ∂C/∂aᵢ = −tᵢ / (B·aᵢ), and ln aᵢ is taken as ln max(aᵢ, ε) with ε = 1e-12 so a = 0 gives a large finite cost.</para>
/// <example>a = (0.25, 0.75), t = (0, 1): C = −ln 0.75 ≈ 0.2877.</example>
/// </remarks>
public sealed class CrossEntropyCost : ICostFunction, IFusedOutputCost
{
    /// <summary>ε, the floor applied to probabilities before the logarithm in the unfused form.</summary>
    public const float Epsilon = 1e-12f;

    /// <inheritdoc />
    public string Name => "CrossEntropy";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Value(ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            if (target[i] != 0f) sum -= target[i] * Math.Log(Math.Max(output[i], Epsilon));
        }
        return (float)(sum / batchSize);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> outputGradient, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        CostGuard.CheckGradient(this, output.Length, outputGradient.Length);
        float scale = -1f / batchSize;
        for (int i = 0; i < output.Length; i++)
            outputGradient[i] = target[i] == 0f ? 0f : scale * target[i] / Math.Max(output[i], Epsilon);
    }

    bool IFusedOutputCost.CanFuse(ILayer outputLayer) => outputLayer is ActivationLayer { Kind: ActivationKind.Softmax };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    float IFusedOutputCost.ValueFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize)
    {
        int width = CostGuard.Check(this, logits.Length, target.Length, batchSize);
        double sum = 0;
        for (int r = 0; r < batchSize; r++)
        {
            ReadOnlySpan<float> z = logits.Slice(r * width, width);
            ReadOnlySpan<float> t = target.Slice(r * width, width);
            double logSumExp = ElementwiseKernels.LogSumExp(z);
            for (int i = 0; i < width; i++)
            {
                if (t[i] != 0f) sum -= t[i] * (z[i] - logSumExp);
            }
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
