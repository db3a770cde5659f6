namespace NeuralDescent.Costs;

/// <summary>
/// A cost C measuring how far a batch of network outputs a is from its targets t, averaged over the batch:
/// C = (1/B) Σ_samples c(a, t).
/// </summary>
/// <remarks>
/// Both spans are batchSize × width, row-major, one sample per row. The gradient is that of the batch mean,
/// so it already carries the 1/B factor and an optimizer step w ← w − η·∂C/∂w matches the tutorial's update
/// w ← w − (η/B) Σ ∂c/∂w.
/// </remarks>
public interface ICostFunction
{
    /// <summary>A short name for messages and tables, e.g. <c>CrossEntropy</c>.</summary>
    string Name { get; }

    /// <summary>C = (1/B) Σ c(a, t) over the batch.</summary>
    /// <param name="output">The network's outputs a.</param>
    /// <param name="target">The targets t, same shape.</param>
    /// <param name="batchSize">B, the number of rows.</param>
    /// <returns>The batch-mean cost.</returns>
    float Value(ReadOnlySpan<float> output, ReadOnlySpan<float> target, int batchSize);

    /// <summary>Writes ∂C/∂a, the gradient of the batch-mean cost with respect to each output.</summary>
    /// <param name="output">The network's outputs a.</param>
    /// <param name="target">The targets t.</param>
    /// <param name="outputGradient">Receives ∂C/∂a, same shape.</param>
    /// <param name="batchSize">B.</param>
    void Gradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> outputGradient, int batchSize);
}
