using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Data;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Benchmarks.Probes;

/// <summary>
/// The kernel's persistent worker threads against <see cref="Parallel.For(int, int, Action{int})"/> over the same fixed
/// parts, through the public API: <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- pool-vs-parallel-for [rounds]</c>.
/// Alternates the two a few rounds (the host drifts) and prints I1 (one Predict of the W1 network, median over 10,000
/// calls) and one epoch of W1 and W3 on 2 threads.
/// </summary>
internal static class PoolComparisonProbe
{
    public static void Run(int rounds)
    {
        ComputeOptions.ThreadCount = 2;
        DataSplit mnist = Mnist.Load(MnistSample.DataLocator.FindMnist() ?? throw new DirectoryNotFoundException("data/mnist not found"));
        Network w1 = MnistSample.Bench.Workload.W1.CreateNetwork();
        Network w3 = MnistSample.Bench.Workload.W3.CreateNetwork();
        MnistSample.Bench.Workload.W1.CreateTrainer(1).Fit(w1, mnist.Training.Slice(0, 20_000)); // warm-up
        MnistSample.Bench.Workload.W3.CreateTrainer(1).Fit(w3, mnist.Training.Slice(0, 20_000));
        var x = new float[784];
        var y = new float[10];
        mnist.Test.CopyInput(0, x);
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool parallelFor in new[] { false, true })
            {
                WorkerPool.UseParallelFor = parallelFor;
                for (int i = 0; i < 20_000; i++) w1.Predict(x, y);
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < 10_000; i++) w1.Predict(x, y);
                double i1 = Stopwatch.GetElapsedTime(start).TotalMicroseconds / 10_000;
                double e1 = MnistSample.Bench.Workload.W1.CreateTrainer(1).Fit(w1, mnist.Training).Epochs[0].Duration.TotalSeconds;
                double e3 = MnistSample.Bench.Workload.W3.CreateTrainer(1).Fit(w3, mnist.Training).Epochs[0].Duration.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1} {(parallelFor ? "Parallel.For " : "worker pool  ")}  I1 {i1,6:F2} µs   W1 {e1,6:F3} s   W3 {e3,6:F3} s"));
            }
        }
        WorkerPool.UseParallelFor = false;
    }
}
