using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NeuralDescent;
using NeuralDescent.Data;
using NeuralDescent.Training;

namespace MnistSample.Bench;

/// <summary>
/// <c>bench</c>: times W1–W4 (seconds per epoch of the training loop, after a warm-up), I1, I2 and I4 through the public
/// API, and the machine's FMA peak in the same run, then prints GFLOP/s and the fraction of peak.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(Option<string?> dataOption)
    {
        var workloads = new Option<string[]>("--workload", "-w") { Description = "Which to time: W1, W2, W3, W4 (the CNN, with its inference of the test set), I (inference I1 and I2), or all.", DefaultValueFactory = _ => ["all"], AllowMultipleArgumentsPerToken = true };
        workloads.AcceptOnlyFromAmong("W1", "W2", "W3", "W4", "I", "all");
        var epochs = new Option<int>("--epochs", "-e") { Description = "Timed epochs per workload (after a warm-up).", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads", "-t") { Description = "Kernel threads (ComputeOptions.ThreadCount).", DefaultValueFactory = _ => Environment.ProcessorCount };
        epochs.Require(v => v > 0, v => $"--epochs must be positive, got {v}.");
        threads.Require(t => t >= 1 && t <= 64, t => $"--threads must be between 1 and 64, got {t}.");
        var command = new Command("bench", "Time the reference workloads W1-W4 and inference I1/I2/I4 through the public API.") { workloads, epochs, threads };
        command.SetAction(parse => Run(parse.GetValue(workloads)!, parse.GetValue(epochs), parse.GetValue(threads), parse.GetValue(dataOption)));
        return command;
    }

    private static int Run(string[] which, int epochs, int threads, string? dataDirectory)
    {
        string? directory = dataDirectory ?? DataLocator.FindMnist();
        if (directory is null || !Directory.Exists(directory))
        {
            Console.Error.WriteLine($"error: MNIST data folder {(directory is null ? "not found; pass --data DIR" : $"'{directory}' does not exist")}.");
            return ExitCodes.BadInput;
        }
        DataSplit mnist = Mnist.Load(directory);
        ComputeOptions.ThreadCount = threads;
        bool all = which.Contains("all");

        // Twice at each width, keeping the best: the shared host has slow seconds.
        (double first, int bits) = PeakFma.MeasurePeak(threads, TimeSpan.FromSeconds(0.5));
        (double second, int bits2) = PeakFma.MeasurePeak(threads, TimeSpan.FromSeconds(0.5));
        (double peak, int width) = second > first ? (second, bits2) : (first, bits);
        Console.WriteLine(Invariant($"CPU: {CpuName()}"));
        Console.WriteLine(Invariant($"Peak FP32 FMA on {threads} thread(s): {peak:F1} GFLOP/s ({width}-bit FMAs, the fastest of the accelerated widths {string.Join("/", PeakFma.AcceleratedWidths)}; 12 chains per thread, measured now)"));
        Console.WriteLine(Invariant($"{"workload",-4} {"s/epoch",8} {"ms/step",8} {"GFLOP/s",8} {"of peak",8}  description"));
        Network? w1 = null;
        foreach (Workload w in Workload.All.Where(w => all || which.Contains(w.Name)))
        {
            Network network = w.CreateNetwork();
            // Warm-up: one epoch on a third of the data, long enough for the tiered JIT to settle (the first epoch of a
            // process runs partly on unoptimized code and is 20–50 % slower).
            w.CreateTrainer(1).Fit(network, mnist.Training.Slice(0, mnist.Training.Count / 3));
            TrainingHistory history = w.CreateTrainer(epochs).Fit(network, mnist.Training);
            double seconds = Median(history.Epochs.Select(e => e.Duration.TotalSeconds).ToList());
            double steps = Math.Ceiling((double)mnist.Training.Count / w.BatchSize);
            double gflops = w.FlopPerSample * (double)mnist.Training.Count / seconds / 1e9;
            Console.WriteLine(Invariant($"{w.Name,-4} {seconds,8:F3} {seconds / steps * 1e3,8:F3} {gflops,8:F1} {gflops / peak,8:P0}  {w.Description}"));
            if (w.Name == "W1") w1 = network;
            if (w.Name == "W4") TimeBatchInference("I4", network, mnist.Test); // the CNN on the test set
        }

        if (all || which.Contains("I"))
        {
            if (w1 is null)
            {
                w1 = Workload.W1.CreateNetwork();
                Workload.W1.CreateTrainer(1).Fit(w1, mnist.Training);
            }
            TimeInference(w1, mnist.Test);
        }
        return ExitCodes.Success;
    }

    private static void TimeInference(Network network, Dataset test)
    {
        var inputs = new float[test.Count * test.InputSize];
        for (int i = 0; i < test.Count; i++) test.CopyInput(i, inputs.AsSpan(i * test.InputSize, test.InputSize));
        var output = new float[network.OutputSize];

        // Warm-up (about a second) so the tiered JIT has finished with Predict before timing.
        for (int i = 0; i < 200_000; i++) network.Predict(inputs.AsSpan((i % test.Count) * test.InputSize, test.InputSize), output);
        // I1: one Predict of a single image; median over rounds of 10,000 calls.
        var rounds = new List<double>();
        for (int round = 0; round < 7; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 10_000; i++) network.Predict(inputs.AsSpan((i % test.Count) * test.InputSize, test.InputSize), output);
            rounds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / 10_000);
        }
        Console.WriteLine(Invariant($"I1   {Median(rounds),8:F2} µs per single-image Predict (W1 network; median of 7 rounds of 10,000)"));

        TimeBatchInference("I2", network, test);
    }

    /// <summary>Predictions for all 10,000 test images in one <c>PredictBatch</c>: median of 9 after 3 warm-up rounds.</summary>
    private static void TimeBatchInference(string label, Network network, Dataset test)
    {
        var inputs = new float[test.Count * test.InputSize];
        for (int i = 0; i < test.Count; i++) test.CopyInput(i, inputs.AsSpan(i * test.InputSize, test.InputSize));
        var outputs = new float[test.Count * network.OutputSize];
        var times = new List<double>();
        for (int round = 0; round < 3; round++) network.PredictBatch(inputs, outputs, test.Count);
        for (int round = 0; round < 9; round++)
        {
            long start = Stopwatch.GetTimestamp();
            network.PredictBatch(inputs, outputs, test.Count);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        Console.WriteLine(Invariant($"{label,-4} {Median(times),8:F2} ms for all {test.Count:N0} test images in one PredictBatch (median of 9)"));
    }

    /// <summary>The CPU's model name and x86 family/model from /proc/cpuinfo, or the architecture elsewhere.</summary>
    private static string CpuName()
    {
        try
        {
            string[] lines = File.ReadAllLines("/proc/cpuinfo");
            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
            string family = Field("cpu family") is string f ? $", family {f} model {Field("model\t")}" : "";
            return $"{Field("model name") ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}{family}";
        }
        catch (IOException)
        {
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (UnauthorizedAccessException)
        {
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
