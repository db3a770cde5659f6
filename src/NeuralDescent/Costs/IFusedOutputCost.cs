using NeuralDescent.Layers;

namespace NeuralDescent.Costs;

/// <summary>
/// A cost that, after a matching output activation, computes the loss and the gradient with respect to the
/// activation's input (the logits) directly: exact, stable and cheaper than chaining the two derivatives.
/// </summary>
internal interface IFusedOutputCost
{
    /// <summary>Whether the fused path applies after <paramref name="outputLayer"/>.</summary>
    bool CanFuse(ILayer outputLayer);

    /// <summary>The batch-mean cost computed from the logits z (and the activation's output a = f(z)).</summary>
    float ValueFromLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize);

    /// <summary>Writes ∂C/∂z for the batch-mean cost.</summary>
    void LogitGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> logitGradient, int batchSize);
}
