using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>
/// A quick phase-by-phase stopwatch profile of one workload's training step (not a BenchmarkDotNet suite):
/// <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile W1 [threads]</c>.
/// Median microseconds per phase over 3,000 steps on random MNIST-shaped data.
/// </summary>
internal static class StepProfile
{
    public static void Run(string workload, int threads)
    {
        ComputeOptions.ThreadCount = threads;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        Network network = w.CreateNetwork();
        ICostFunction cost = w.Name == "W2" ? new QuadraticCost() : new CrossEntropyCost();
        IOptimizer optimizer = w.CreateTrainer(1).Optimizer;
        int b = w.BatchSize;
        Network.Workspace ws = network.WorkspaceFor(b);
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        for (int i = 0; i < b * 784; i++) ws.Inputs[i] = random.NextSingle();
        for (int i = 0; i < b; i++) ws.Targets[i * 10 + random.NextInt32(10)] = 1f;
        ReadOnlySpan<float> inputs = ws.Inputs.AsSpan(0, b * 784);
        ReadOnlySpan<float> targets = ws.Targets.AsSpan(0, b * 10);
        string[] names = ["zero", "forward", "loss", "backward", "optimizer"];
        var samples = names.Select(_ => new List<double>()).ToArray();
        for (int step = 0; step < 3000; step++)
        {
            long t0 = Stopwatch.GetTimestamp();
            foreach (Parameter p in network.Parameters) p.ZeroGradient();
            long t1 = Stopwatch.GetTimestamp();
            network.ForwardInto(ws, inputs, b, training: true);
            long t2 = Stopwatch.GetTimestamp();
            network.LossOf(ws, cost, targets, b);
            long t3 = Stopwatch.GetTimestamp();
            network.Backward(ws, inputs, cost, targets, b);
            long t4 = Stopwatch.GetTimestamp();
            optimizer.Step(network.Parameters);
            long t5 = Stopwatch.GetTimestamp();
            if (step < 500) continue; // warm-up
            long[] t = [t0, t1, t2, t3, t4, t5];
            for (int i = 0; i < names.Length; i++) samples[i].Add((t[i + 1] - t[i]) * 1e6 / Stopwatch.Frequency);
        }
        // Forward, layer by layer.
        var layerTimes = network.Layers.Select(_ => new List<double>()).ToArray();
        for (int step = 0; step < 2000; step++)
        {
            ReadOnlySpan<float> current = inputs;
            for (int i = 0; i < network.Layers.Count; i++)
            {
                int width = ws.Activations[i].Length / ws.Capacity;
                Span<float> output = ws.Activations[i].AsSpan(0, b * width);
                long t0 = Stopwatch.GetTimestamp();
                network.Layers[i].Forward(current, output, b, training: true);
                if (step >= 500) layerTimes[i].Add((Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency);
                current = output;
            }
        }
        for (int i = 0; i < layerTimes.Length; i++)
        {
            layerTimes[i].Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  forward {network.Layers[i].Name,-16} {layerTimes[i][layerTimes[i].Count / 2],9:F1} µs"));
        }
        double total = 0;
        foreach ((string name, List<double> s) in names.Zip(samples))
        {
            s.Sort();
            double median = s[s.Count / 2];
            total += median;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-10} {median,9:F1} µs"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"total",-10} {total,9:F1} µs per {w.Name} step on {threads} thread(s)"));
    }
}
