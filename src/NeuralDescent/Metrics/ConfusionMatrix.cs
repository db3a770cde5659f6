using NeuralDescent.Data;

namespace NeuralDescent.Metrics;

/// <summary>Counts of (actual class, predicted class) pairs over a dataset: entry [i, j] is the number of samples of class i predicted as j.</summary>
/// <remarks>The diagonal holds the correct predictions; accuracy = trace / total. Row i sums to the number of samples of class i.</remarks>
public sealed class ConfusionMatrix
{
    private readonly int[,] _counts;

    private ConfusionMatrix(int[,] counts, int total)
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

    /// <summary>Runs the network over <paramref name="data"/> and counts its predictions (argmax of the output) by true class.</summary>
    /// <param name="network">The network; its output size is the class count.</param>
    /// <param name="data">Labelled samples.</param>
    /// <param name="batchSize">Samples per forward pass; affects speed only.</param>
    /// <returns>The matrix.</returns>
    /// <exception cref="ArgumentException">The data does not fit the network.</exception>
    public static ConfusionMatrix Compute(Network network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        network.CheckDataset(data);
        int classes = Math.Max(2, network.OutputSize);
        var counts = new int[classes, classes];
        batchSize = Math.Max(1, Math.Min(batchSize, data.Count));
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        var indices = new int[batchSize];
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int b = Math.Min(batchSize, data.Count - start);
            for (int i = 0; i < b; i++) indices[i] = start + i;
            Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
            data.CopyBatch(indices.AsSpan(0, b), inputs, ws.Targets.AsSpan(0, b * network.OutputSize));
            ReadOnlySpan<float> outputs = network.ForwardInto(ws, inputs, b, training: false);
            for (int i = 0; i < b; i++)
                counts[data.ClassOf(start + i), Network.ArgMax(outputs.Slice(i * network.OutputSize, network.OutputSize))]++;
        }
        return new ConfusionMatrix(counts, data.Count);
    }
}
