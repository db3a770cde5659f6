namespace NeuralDescent.Metrics;

/// <summary>How a network did on a dataset.</summary>
/// <param name="Loss">Mean cost per sample, (1/N) Σ c(a, t).</param>
/// <param name="Accuracy">Fraction of samples whose predicted class (argmax of the output) equals their label.</param>
/// <param name="Correct">Number of correctly classified samples.</param>
/// <param name="Count">Number of samples, N.</param>
public sealed record EvaluationResult(float Loss, double Accuracy, int Correct, int Count)
{
    /// <summary>Counts of (actual, predicted) classes; per-class precision and recall come from it.</summary>
    public ConfusionMatrix? Confusion { get; init; }

    /// <summary>The k of <see cref="TopKAccuracy"/>.</summary>
    public int TopK { get; init; }

    /// <summary>Fraction of samples whose label is among the <see cref="TopK"/> largest outputs.</summary>
    public double TopKAccuracy { get; init; }
}
