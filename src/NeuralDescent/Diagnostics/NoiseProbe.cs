using NeuralDescent.Data;
using NeuralDescent.Randomness;

namespace NeuralDescent.Diagnostics;

/// <summary>What a classifier says about pure noise.</summary>
/// <param name="MeanConfidence">Mean over the noise images of the largest output (the top class's probability after softmax).</param>
/// <param name="Histogram">How many noise images were assigned to each class.</param>
/// <param name="Count">Number of noise images.</param>
public sealed record NoiseProbeResult(double MeanConfidence, int[] Histogram, int Count);

/// <summary>
/// The tutorial's overconfidence pitfall, measured: a digit network shown uniform noise (static) still names a digit,
/// often with high certainty. <see cref="WithNoiseSamples"/> builds the remedy measured in the sample and the tests:
/// train on extra noise images whose target is the uniform distribution over the classes.
/// </summary>
public static class NoiseProbe
{
    /// <summary>Feeds <paramref name="count"/> images of independent U(0, 1) pixels and summarizes the predictions.</summary>
    /// <param name="network">A classifier (one output per class).</param>
    /// <param name="count">Number of noise images; default 1,000.</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <returns>Mean top-class confidence and the predicted-class histogram.</returns>
    public static NoiseProbeResult Run(Network network, int count = 1000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = RandomGenerator.ForStream(unchecked((ulong)seed), RandomStreamKind.Data);
        var histogram = new int[Math.Max(2, network.OutputSize)];
        var input = new float[network.InputSize];
        var output = new float[network.OutputSize];
        double confidence = 0;
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle();
            network.Predict(input, output);
            int top = Network.ArgMax(output);
            histogram[top]++;
            confidence += output.Length == 1 ? Math.Max(output[0], 1 - output[0]) : output[top];
        }
        return new NoiseProbeResult(confidence / count, histogram, count);
    }

    /// <summary>
    /// <paramref name="data"/> plus <paramref name="count"/> uniform-noise inputs whose target is 1/K for each of the K
    /// classes (float targets, so the copy takes count + N samples of floats).
    /// </summary>
    /// <param name="data">A labelled dataset.</param>
    /// <param name="count">Noise images to add.</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <returns>A new dataset, the original samples first.</returns>
    public static Dataset WithNoiseSamples(Dataset data, int count, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = data.Count, features = data.InputSize, classes = data.TargetSize;
        var inputs = new float[(long)(n + count) * features];
        var targets = new float[(long)(n + count) * classes];
        for (int i = 0; i < n; i++)
        {
            data.CopyInput(i, inputs.AsSpan(i * features, features));
            data.CopyTarget(i, targets.AsSpan(i * classes, classes));
        }
        var random = RandomGenerator.ForStream(unchecked((ulong)seed), RandomStreamKind.Data);
        for (int i = n; i < n + count; i++)
        {
            for (int f = 0; f < features; f++) inputs[i * features + f] = random.NextSingle();
            targets.AsSpan(i * classes, classes).Fill(1f / classes);
        }
        return Dataset.FromTargets(inputs, features, targets, classes);
    }
}
