using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Training;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>
/// <c>Trainer.Fit</c>'s loop rebuilt from its parts, timing the batch copy, the step and the count of correct
/// predictions (means per step) for three epochs, and the first epoch in runs of 100 steps, where tiered compilation
/// shows: <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- fit-phases W1 [threads]</c>.
/// </summary>
internal static class FitPhasesProbe
{
    public static void Run(string workload, int threads)
    {
        ComputeOptions.ThreadCount = threads;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        var training = NeuralDescent.Data.Mnist.Load(MnistSample.DataLocator.FindMnist()!).Training;
        Network network = w.CreateNetwork();
        Trainer trainer = w.CreateTrainer(1);
        using Network.TrainingScope scope = network.BeginTraining();
        var batches = new BatchSource(training, trainer.Options);
        var step = new TrainingStep(network, trainer.Cost, trainer.Optimizer, trainer.Options, trainer.Optimizer.LearningRate);
        Network.Workspace ws = network.WorkspaceFor(batches.BatchSize);
        string[] names = ["fill", "run", "count"];
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            var sums = new double[names.Length];
            var hundreds = new double[(batches.Batches + 99) / 100];
            batches.StartEpoch();
            long e0 = Stopwatch.GetTimestamp();
            for (int batch = 0; batch < batches.Batches; batch++)
            {
                long t0 = Stopwatch.GetTimestamp();
                int b = batches.Fill(batch, ws.Inputs, ws.Targets);
                long t1 = Stopwatch.GetTimestamp();
                step.Run(ws, b, epoch, batch + 1, batches.Batches);
                long t2 = Stopwatch.GetTimestamp();
                NeuralDescent.Metrics.Evaluator.CountCorrect(ws.Activations[^1].AsSpan(0, b * network.OutputSize), network.OutputSize, training, batches.Indices(batch));
                long t3 = Stopwatch.GetTimestamp();
                sums[0] += t1 - t0; sums[1] += t2 - t1; sums[2] += t3 - t2;
                hundreds[batch / 100] += t3 - t0;
            }
            double total = Stopwatch.GetElapsedTime(e0).TotalSeconds;
            if (epoch == 1)
                Console.WriteLine("  epoch 1, µs per step in runs of 100 steps: " + string.Join(" ", hundreds.Select((x, i) => (x * 1e6 / Stopwatch.Frequency / Math.Min(100, batches.Batches - i * 100)).ToString("F0", CultureInfo.InvariantCulture))));
            Console.WriteLine("epoch " + epoch + ": " + total.ToString("F3", CultureInfo.InvariantCulture) + " s; per step mean " + string.Join(", ", names.Select((n, i) => n + " " + (sums[i] * 1e6 / Stopwatch.Frequency / batches.Batches).ToString("F1", CultureInfo.InvariantCulture) + " µs")));
        }
    }
}
