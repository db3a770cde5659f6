using System.Runtime.CompilerServices;
using NeuralDescent.Costs;
using NeuralDescent.Data;

namespace NeuralDescent.Metrics;

/// <summary>Measures a network on a dataset without changing it: mean cost, accuracy, top-k accuracy and the confusion matrix.</summary>
/// <remarks>
/// The network runs in inference mode (dropout off, batch normalization on its running statistics). The predicted class
/// of an output row is argmaxₖ aₖ, or, for a single output, 1 when a ≥ 0.5 (a sigmoid's binary decision).
/// </remarks>
public static class Evaluator
{
    /// <summary>
    /// Measures <paramref name="network"/> on <paramref name="data"/>: mean cost (1/N) Σ c(a, t), accuracy, top-k accuracy
    /// and, for class outputs, the confusion matrix (from which per-class precision and recall follow).
    /// </summary>
    /// <param name="network">The network; not changed.</param>
    /// <param name="data">The samples; their input and target sizes must match the network.</param>
    /// <param name="cost">The cost to report (the fused, stable form is used after softmax or sigmoid, as in training).</param>
    /// <param name="batchSize">Samples per forward pass; affects speed only.</param>
    /// <param name="topK">k of the top-k accuracy: a sample counts when its label is among the k largest outputs; default 5.</param>
    /// <returns>The metrics over all samples.</returns>
    /// <exception cref="ArgumentException">The data's sizes do not match the network.</exception>
    public static EvaluationResult Evaluate(Network network, Dataset data, ICostFunction cost, int batchSize = 256, int topK = 5)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(network, data, cost, null, batchSize, topK);
    }

    /// <summary>
    /// Measures a regression network on <paramref name="data"/> (targets from <see cref="Dataset.FromTargets"/>): mean
    /// absolute error, root mean squared error and R², pooled over every output (see <see cref="RegressionResult"/>),
    /// accumulated in double.
    /// </summary>
    /// <param name="network">The network; not changed (runs in inference mode).</param>
    /// <param name="data">The samples; their input and target sizes must match the network.</param>
    /// <param name="batchSize">Samples per forward pass; affects speed only.</param>
    /// <returns>The metrics over all samples (zeros and NaN R² for an empty set).</returns>
    /// <exception cref="ArgumentException">The data's sizes do not match the network.</exception>
    public static RegressionResult EvaluateRegression(Network network, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        network.CheckDataset(data);
        int count = data.Count, outputs = network.OutputSize;
        if (count == 0) return new RegressionResult(0, 0, double.NaN, 0);
        batchSize = Math.Min(Math.Min(batchSize, count), network.MaxWorkspaceRows);
        // Each output's target mean and Σ (t − t̄)², updated one sample at a time (Welford), so large offsets do not cancel.
        var targetMean = new double[outputs];
        var targetDeviation = new double[outputs];
        double absolute = 0, squared = 0;
        int[] batchIndices = new int[batchSize];
        Network.Workspace ws = network.RentInference(batchSize);
        try
        {
            for (int start = 0; start < count; start += batchSize)
            {
                int b = Math.Min(batchSize, count - start);
                for (int i = 0; i < b; i++) batchIndices[i] = start + i;
                Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
                Span<float> targets = ws.Targets.AsSpan(0, b * outputs);
                data.CopyBatch(batchIndices.AsSpan(0, b), inputs, targets);
                ReadOnlySpan<float> output = network.ForwardInto(ws, inputs, b, training: false);
                for (int i = 0; i < b * outputs; i++)
                {
                    double error = (double)output[i] - targets[i];
                    absolute += Math.Abs(error);
                    squared += error * error;
                    int k = i % outputs, seen = start + i / outputs + 1;
                    double delta = targets[i] - targetMean[k];
                    targetMean[k] += delta / seen;
                    targetDeviation[k] += delta * (targets[i] - targetMean[k]);
                }
            }
        }
        finally
        {
            network.ReturnInference(ws);
        }
        double n = (double)count * outputs, total = targetDeviation.Sum();
        return new RegressionResult(absolute / n, Math.Sqrt(squared / n), total > 0 ? 1 - squared / total : double.NaN, count);
    }

    /// <summary>Evaluate over the samples named by <paramref name="indices"/> (all when null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static EvaluationResult Evaluate(Network network, Dataset data, ICostFunction cost, int[]? indices, int batchSize = 256, int topK = 5)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topK);
        network.CheckDataset(data);
        int count = indices?.Length ?? data.Count;
        if (count == 0)
        {
            int classes = Math.Max(2, network.OutputSize);
            return new EvaluationResult(0, 0, 0, 0) { Confusion = new ConfusionMatrix(new int[classes, classes], 0), TopK = topK };
        }
        batchSize = Math.Min(Math.Min(batchSize, count), network.MaxWorkspaceRows);
        Network.Workspace ws = network.RentInference(batchSize);
        try
        {
            return Measure(network, data, cost, indices, ws, count, batchSize, topK);
        }
        finally
        {
            network.ReturnInference(ws);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static EvaluationResult Measure(Network network, Dataset data, ICostFunction cost, int[]? indices, Network.Workspace ws, int count, int batchSize, int topK)
    {
        int outputs = network.OutputSize, classes = Math.Max(2, outputs);
        var confusion = new int[classes, classes];
        int[] batchIndices = new int[batchSize];
        double lossSum = 0;
        int correct = 0, topKCorrect = 0;
        for (int start = 0; start < count; start += batchSize)
        {
            int b = Math.Min(batchSize, count - start);
            for (int i = 0; i < b; i++) batchIndices[i] = indices is null ? start + i : indices[start + i];
            Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
            Span<float> targets = ws.Targets.AsSpan(0, b * outputs);
            data.CopyBatch(batchIndices.AsSpan(0, b), inputs, targets);
            ReadOnlySpan<float> output = network.ForwardInto(ws, inputs, b, training: false);
            lossSum += (double)network.LossOf(ws, cost, targets, b) * b;
            for (int i = 0; i < b; i++)
            {
                ReadOnlySpan<float> row = output.Slice(i * outputs, outputs);
                int actual = data.ClassOf(batchIndices[i]);
                int predicted = Network.ArgMax(row);
                confusion[actual, predicted]++;
                if (predicted == actual) correct++;
                if (IsInTopK(row, actual, topK)) topKCorrect++;
            }
        }
        return new EvaluationResult((float)(lossSum / count), (double)correct / count, correct, count)
        {
            Confusion = new ConfusionMatrix(confusion, count),
            TopK = topK,
            TopKAccuracy = (double)topKCorrect / count,
        };
    }

    /// <summary>How many rows of <paramref name="outputs"/> predict the class of the matching sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int CountCorrect(ReadOnlySpan<float> outputs, int width, Dataset data, ReadOnlySpan<int> indices)
    {
        int correct = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            if (Network.ArgMax(outputs.Slice(i * width, width)) == data.ClassOf(indices[i])) correct++;
        }
        return correct;
    }

    /// <summary>Whether class <paramref name="label"/> is among the k largest outputs (fewer than k outputs larger than it; ties count for it).</summary>
    private static bool IsInTopK(ReadOnlySpan<float> outputs, int label, int k)
    {
        if (outputs.Length == 1) return Network.ArgMax(outputs) == label || k > 1;
        float value = outputs[label];
        int larger = 0;
        foreach (float v in outputs)
        {
            if (v > value && ++larger >= k) return false;
        }
        return true;
    }
}
