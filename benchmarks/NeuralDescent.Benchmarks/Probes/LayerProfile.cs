using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Layers;

namespace NeuralDescent.Benchmarks.Probes;

/// <summary>
/// A stopwatch profile of each layer of a workload, forward and backward, on one batch of random data (not a
/// BenchmarkDotNet suite): <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile-layers W4 [threads]</c>.
/// Layers run one by one (so a Dense or Conv2D and the ReLU after it are timed apart, unfused); mean over 30 rounds
/// after 3 warm-up rounds, with an estimate of seconds per 60,000-image epoch.
/// </summary>
internal static class LayerProfile
{
    public static void Run(string workload, int threads)
    {
        ComputeOptions.ThreadCount = threads;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        Network network = w.CreateNetwork();
        IReadOnlyList<ILayer> layers = network.Layers;
        int b = w.BatchSize, n = layers.Count;
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        var activations = new float[n + 1][];
        var gradients = new float[n + 1][];
        for (int i = 0; i <= n; i++)
        {
            activations[i] = new float[b * network.ShapeBefore(i).Size];
            gradients[i] = new float[activations[i].Length];
            for (int j = 0; j < gradients[i].Length; j++) gradients[i][j] = (random.NextSingle() - 0.5f) * 0.01f;
        }
        for (int j = 0; j < activations[0].Length; j++) activations[0][j] = random.NextSingle();
        var forward = new double[n];
        var backward = new double[n];
        const int warmup = 3, rounds = 30;
        for (int r = 0; r < warmup + rounds; r++)
        {
            for (int i = 0; i < n; i++)
            {
                long t = Stopwatch.GetTimestamp();
                layers[i].Forward(activations[i], activations[i + 1], b, training: true);
                if (r >= warmup) forward[i] += Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
            for (int i = n - 1; i >= 0; i--)
            {
                long t = Stopwatch.GetTimestamp();
                layers[i].Backward(activations[i], activations[i + 1], gradients[i + 1], i == 0 ? Span<float>.Empty : gradients[i], b);
                if (r >= warmup) backward[i] += Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            }
        }
        double total = 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w.Name}, batch {b}, {threads} thread(s), ms per batch (mean of {rounds}):"));
        for (int i = 0; i < n; i++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{layers[i].Name,-34} forward {forward[i] / rounds,8:F3}  backward {backward[i] / rounds,8:F3}"));
            total += (forward[i] + backward[i]) / rounds;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"all layers",-34} {total,17:F3} ms per batch ≈ {total * 60_000 / b / 1000,5:F1} s per epoch (no optimizer step, no batch copy)"));
    }
}
