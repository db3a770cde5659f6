using NeuralDescent.Data;

namespace NeuralDescent.Metrics;

/// <summary>Counts of (actual class, predicted class) pairs over a dataset: entry [i, j] is the number of samples of class i predicted as j.</summary>
/// <remarks>The diagonal holds the correct predictions; accuracy = trace / total. Row i sums to the number of samples of class i.</remarks>
public sealed class ConfusionMatrix
{
    private readonly int[,] _counts;

    internal ConfusionMatrix(int[,] counts, int total)
    {
        _counts = counts;
        Total = total;
    }

    /// <summary>Number of classes (rows and columns).</summary>
    public int ClassCount => _counts.GetLength(0);

    /// <summary>Number of samples counted.</summary>
    public int Total { get; }

    /// <summary>The number of samples of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    /// <param name="actual">The true class.</param>
    /// <param name="predicted">The predicted class.</param>
    public int this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>Fraction of samples on the diagonal.</summary>
    public double Accuracy
    {
        get
        {
            if (Total == 0) return 0;
            int correct = 0;
            for (int i = 0; i < ClassCount; i++) correct += _counts[i, i];
            return (double)correct / Total;
        }
    }

    /// <summary>Precision of class c: of the samples predicted as c, the fraction that are c, M[c, c] / Σᵢ M[i, c] (0 when nothing was predicted as c).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The precision in [0, 1].</returns>
    public double Precision(int c)
    {
        int predicted = 0;
        for (int i = 0; i < ClassCount; i++) predicted += _counts[i, c];
        return predicted == 0 ? 0 : (double)_counts[c, c] / predicted;
    }

    /// <summary>Recall of class c: of the samples of class c, the fraction predicted as c, M[c, c] / Σⱼ M[c, j] (0 when there are none).</summary>
    /// <param name="c">The class.</param>
    /// <returns>The recall in [0, 1].</returns>
    public double Recall(int c)
    {
        int actual = 0;
        for (int j = 0; j < ClassCount; j++) actual += _counts[c, j];
        return actual == 0 ? 0 : (double)_counts[c, c] / actual;
    }

    /// <summary>Runs the network over <paramref name="data"/> and counts its predictions (argmax of the output) by true class.</summary>
    /// <param name="network">The network; its output size is the class count.</param>
    /// <param name="data">Labelled samples.</param>
    /// <param name="batchSize">Samples per forward pass; affects speed only.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public static ConfusionMatrix Compute(Network network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Evaluator.Evaluate(network, data, new Costs.QuadraticCost(), batchSize).Confusion!;
    }
}
