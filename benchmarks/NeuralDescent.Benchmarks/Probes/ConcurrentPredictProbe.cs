using System.Diagnostics;
using System.Globalization;

namespace NeuralDescent.Benchmarks.Probes;

/// <summary>
/// Throughput of one shared network predicting from several threads at once, as a web application's singleton model
/// does: <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- concurrent-predict W1 [seconds]</c>.
/// Kernel threads are set to 1, so each call runs on its caller's thread; prints single-image predictions per second for
/// 1, 2 and 4 caller threads.
/// </summary>
internal static class ConcurrentPredictProbe
{
    public static void Run(string workload, double seconds)
    {
        ComputeOptions.ThreadCount = 1;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        Network network = w.CreateNetwork();
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        float[] inputs = new float[256 * network.InputSize];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextSingle();
        foreach (int callers in new[] { 1, 2, 4, 1 })
        {
            long total = 0;
            using var start = new Barrier(callers);
            Thread[] threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
            {
                var output = new float[network.OutputSize];
                start.SignalAndWait();
                long count = 0, until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < until)
                {
                    for (int i = 0; i < 64; i++) network.Predict(inputs.AsSpan((int)((count + i) % 256) * network.InputSize, network.InputSize), output);
                    count += 64;
                }
                Interlocked.Add(ref total, count);
            })).ToArray();
            foreach (Thread thread in threads) thread.Start();
            foreach (Thread thread in threads) thread.Join();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w.Name}: {callers} caller thread(s): {total / seconds,12:N0} predictions/s"));
        }
    }
}
