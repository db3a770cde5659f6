using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;

namespace NeuralDescent.Costs;

/// <summary>The tutorial's quadratic cost: c(a, t) = ½ Σᵢ (aᵢ − tᵢ)², averaged over the batch.</summary>
/// <remarks>
/// Gradient: ∂C/∂aᵢ = (aᵢ − tᵢ) / B. Also called mean squared error (up to the ½ and the sum over outputs).
/// <example>a = (0.5, 1), t = (0, 1), one sample: C = ½·(0.25 + 0) = 0.125.</example>
/// </remarks>
public sealed class QuadraticCost : ICostFunction
{
    /// <inheritdoc />
    public string Name => "Quadratic";

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Value(ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double d = output[i] - target[i];
            sum += d * d;
        }
        return (float)(0.5 * sum / batchSize);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> outputGradient, int batchSize)
    {
        CostGuard.Check(this, output.Length, target.Length, batchSize);
        CostGuard.CheckGradient(this, output.Length, outputGradient.Length);
        ElementwiseKernels.ScaledDifference(output, target, 1f / batchSize, outputGradient);
    }
}
