using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>
/// A quick phase-by-phase stopwatch profile of one workload's training step (not a BenchmarkDotNet suite):
/// <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile W1 [threads]</c>.
/// Median microseconds per phase over 3,000 steps (or the count given after the threads) on random MNIST-shaped data,
/// then the median, mean and tail of whole steps.
/// </summary>
internal static class StepProfile
{
    public static void Run(string workload, int threads, int steps = 3000)
    {
        ComputeOptions.ThreadCount = threads;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        Network network = w.CreateNetwork();
        ICostFunction cost = w.Cost();
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
        var totals = new List<double>();
        for (int step = 0; step < steps; step++)
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
            if (step < steps / 6) continue; // warm-up
            long[] t = [t0, t1, t2, t3, t4, t5];
            for (int i = 0; i < names.Length; i++) samples[i].Add((t[i + 1] - t[i]) * 1e6 / Stopwatch.Frequency);
            totals.Add((t5 - t0) * 1e6 / Stopwatch.Frequency);
        }
        // Forward, layer by layer.
        var layerTimes = network.Layers.Select(_ => new List<double>()).ToArray();
        for (int step = 0; step < steps * 2 / 3; step++)
        {
            ReadOnlySpan<float> current = inputs;
            for (int i = 0; i < network.Layers.Count; i++)
            {
                int width = ws.Activations[i].Length / ws.Capacity;
                Span<float> output = ws.Activations[i].AsSpan(0, b * width);
                long t0 = Stopwatch.GetTimestamp();
                network.Layers[i].Forward(current, output, b, training: true);
                if (step >= steps / 6) layerTimes[i].Add((Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency);
                if (Environment.GetEnvironmentVariable("ND_PROFILE_TWICE") == "1" && network.Layers[i] is ReLU)
                {
                    long t1 = Stopwatch.GetTimestamp();
                    network.Layers[i].Forward(current, output, b, training: true);
                    if (step >= steps / 6 && step % 100 == 0) Console.WriteLine($"    again: {(Stopwatch.GetTimestamp() - t1) * 1e6 / Stopwatch.Frequency:F1} µs");
                }
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
        // Whole steps: an epoch takes the mean, which the host's stalls (see benchmarks/README, "Noise on this host") pull
        // above the median.
        double meanStep = totals.Average();
        totals.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"steps",-10} median {totals[totals.Count / 2]:F1} µs, mean {meanStep:F1} µs, p90 {totals[totals.Count * 9 / 10]:F1} µs, p99 {totals[totals.Count * 99 / 100]:F1} µs, max {totals[^1]:F1} µs"));
    }
}

/// <summary>Median time of a single-image <c>Predict</c> through the W1 network (I1), by layer.</summary>
internal static class PredictProfile
{
    public static void Run(int threads)
    {
        ComputeOptions.ThreadCount = threads;
        Network network = MnistSample.Bench.Workload.W1.CreateNetwork();
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        float[] x = Enumerable.Range(0, 784).Select(_ => random.NextSingle()).ToArray();
        var y = new float[10];
        var times = new List<double>();
        for (int i = 0; i < 300_000; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            network.Predict(x, y);
            if (i >= 200_000) times.Add((Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency);
        }
        float[] many = Enumerable.Range(0, 10_000 * 784).Select(_ => random.NextSingle()).ToArray();
        var rotating = new List<double>();
        for (int i = 0; i < 300_000; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            network.Predict(many.AsSpan(i % 10_000 * 784, 784), y);
            if (i >= 200_000) rotating.Add((Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency);
        }
        double mean = rotating.Average();
        rotating.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Predict over 10,000 different images: median {rotating[rotating.Count / 2]:F0} ns, mean {mean:F0} ns, p99 {rotating[rotating.Count * 99 / 100]:F0} ns"));
        // W in a Parameter, as a Dense layer holds it (cache-line aligned).
        var weights = new NeuralDescent.Layers.Parameter("weight", 128, 784);
        Span<float> w = weights.Values;
        for (int i = 0; i < w.Length; i++) w[i] = random.NextSingle() - 0.5f;
        var bias = new float[128];
        var h = new float[128];
        var gemv = new List<double>();
        for (int i = 0; i < 300_000; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            NeuralDescent.Kernels.MatrixKernels.Gemv(128, 784, w, x, bias, h);
            if (i >= 200_000) gemv.Add((Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency);
        }
        gemv.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Gemv 128×784 alone: median {gemv[gemv.Count / 2]:F0} ns"));
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Predict (I1): median {times[times.Count / 2]:F0} ns, p10 {times[times.Count / 10]:F0} ns on {threads} thread(s)"));
    }
}

/// <summary>Epoch time of a workload through <c>Trainer.Fit</c> on MNIST or on random bytes of the same shape.</summary>
internal static class FitProfile
{
    public static void Run(string workload, string data, int threads)
    {
        ComputeOptions.ThreadCount = threads;
        MnistSample.Bench.Workload w = MnistSample.Bench.Workload.All.Single(x => x.Name == workload);
        NeuralDescent.Data.Dataset training;
        if (data == "random")
        {
            var random = new NeuralDescent.Randomness.RandomGenerator(1);
            var pixels = new byte[60_000 * 784];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)random.NextInt32(256);
            training = NeuralDescent.Data.Dataset.FromBytes(pixels, 784, Enumerable.Range(0, 60_000).Select(i => i % 10).ToArray(), 10);
        }
        else
        {
            training = NeuralDescent.Data.Mnist.Load(MnistSample.DataLocator.FindMnist()!).Training;
        }
        Network network = w.CreateNetwork();
        var history = w.CreateTrainer(3).Fit(network, training);
        Console.WriteLine($"{w.Name} on {data}, {threads} thread(s): " + string.Join(", ", history.Epochs.Select(e => e.Duration.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture))) + " s per epoch");
    }
}

/// <summary>Where the time of I2 (PredictBatch of 10,000 images through the W1 network) goes, layer by layer.</summary>
internal static class PredictBatchProfile
{
    public static void Run(int threads)
    {
        ComputeOptions.ThreadCount = threads;
        Network network = MnistSample.Bench.Workload.W1.CreateNetwork();
        const int n = 10_000;
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        float[] x = Enumerable.Range(0, n * 784).Select(_ => random.NextSingle()).ToArray();
        var y = new float[n * 10];
        for (int i = 0; i < 5; i++) network.PredictBatch(x, y, n);
        Network.Workspace ws = network.WorkspaceFor(n);
        var layerTimes = network.Layers.Select(_ => new List<double>()).ToArray();
        var totals = new List<double>();
        for (int round = 0; round < 15; round++)
        {
            long start = Stopwatch.GetTimestamp();
            network.PredictBatch(x, y, n);
            totals.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            ReadOnlySpan<float> current = x;
            for (int i = 0; i < network.Layers.Count; i++)
            {
                int width = ws.Activations[i].Length / ws.Capacity;
                Span<float> output = ws.Activations[i].AsSpan(0, n * width);
                long t0 = Stopwatch.GetTimestamp();
                network.Layers[i].Forward(current, output, n, training: false);
                layerTimes[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                current = output;
            }
        }
        totals.Sort();
        for (int i = 0; i < layerTimes.Length; i++)
        {
            layerTimes[i].Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {network.Layers[i].Name,-16} {layerTimes[i][layerTimes[i].Count / 2],8:F2} ms"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PredictBatch(10,000): median {totals[totals.Count / 2]:F2} ms on {threads} thread(s)"));
    }
}

/// <summary>Median GFLOP/s of one GEMM layout and shape (a quick probe between BenchmarkDotNet runs).</summary>
internal static class GemmProfile
{
    public static void Run(string layout, int m, int n, int k, int threads)
    {
        ComputeOptions.ThreadCount = threads;
        bool ta = layout == "tn", tb = layout == "nt";
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        float[] a = Enumerable.Range(0, m * k).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, n * k).Select(_ => random.NextSingle()).ToArray();
        var c = new float[m * n];
        int lda = ta ? m : k, ldb = tb ? k : n;
        var times = new List<double>();
        double flop = 2.0 * m * n * k;
        int rounds = (int)Math.Clamp(4e10 / flop, 5, 2000);
        for (int round = 0; round < rounds; round++)
        {
            long start = Stopwatch.GetTimestamp();
            NeuralDescent.Kernels.MatrixKernels.Gemm(ta, tb, m, n, k, a, lda, b, ldb, c, n, accumulate: false);
            if (round >= rounds / 5) times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        double peak = MnistSample.Bench.PeakFma.MeasurePeak(threads, TimeSpan.FromSeconds(0.5)).Gflops;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{layout} {m}x{n}x{k} on {threads} thread(s): {median * 1e3:F3} ms, {flop / median / 1e9:F1} GFLOP/s (best {flop / times[0] / 1e9:F1}) = {flop / median / 1e9 / peak:P0} of the {peak:F0} GFLOP/s peak measured after it"));
    }
}

/// <summary>Round-trip time of an empty two-part job through the kernel worker pool, sampled over time.</summary>
internal static class HandOffProfile
{
    private sealed class Empty : NeuralDescent.Kernels.Common.IParallelJob
    {
        public void RunPart(int part, int parts) { }
    }

    public static void Run(int seconds)
    {
        var job = new Empty();
        var samples = new double[20_000];
        for (int s = 0; s < seconds * 4; s++)
        {
            for (int i = 0; i < samples.Length; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                NeuralDescent.Kernels.Common.WorkerPool.Run(job, 2);
                samples[i] = (Stopwatch.GetTimestamp() - t0) * 1e9 / Stopwatch.Frequency;
            }
            Array.Sort(samples);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s * 0.25,5:F2} s: median {samples[samples.Length / 2]:F0} ns, p90 {samples[samples.Length * 9 / 10]:F0} ns, p99 {samples[samples.Length * 99 / 100]:F0} ns, max {samples[^1] / 1000:F0} µs"));
            Thread.Sleep(200);
        }
    }
}

/// <summary>What a W1 step of Trainer.Fit costs besides TrainBatch: the batch copy from the shuffled byte dataset (cold, cached, prefetched, after both cores read the buffer) and a norm pass over as many values as the gradients hold.</summary>
internal static class FitOverheadProfile
{
    public static void Run(int threads)
    {
        ComputeOptions.ThreadCount = threads;
        var training = NeuralDescent.Data.Mnist.Load(MnistSample.DataLocator.FindMnist()!).Training;
        Network network = MnistSample.Bench.Workload.W1.CreateNetwork();
        var random = new NeuralDescent.Randomness.RandomGenerator(3);
        int[] order = Enumerable.Range(0, training.Count).ToArray();
        for (int i = order.Length - 1; i > 0; i--) { int j = random.NextInt32(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        var inputs = new float[64 * 784];
        var targets = new float[64 * 10];
        var copy = new List<double>();
        var norm = new List<double>();
        var parameters = network.Parameters;
        float sink = 0;
        for (int round = 0; round < 3; round++)
        {
            for (int batch = 0; batch + 64 <= order.Length; batch += 64)
            {
                long t0 = Stopwatch.GetTimestamp();
                training.CopyBatch(order.AsSpan(batch, 64), inputs, targets);
                long t1 = Stopwatch.GetTimestamp();
                for (int p = 0; p < parameters.Count; p++) sink += System.Numerics.Tensors.TensorPrimitives.Norm(parameters[p].Values);
                long t2 = Stopwatch.GetTimestamp();
                if (round > 0)
                {
                    copy.Add((t1 - t0) * 1e6 / Stopwatch.Frequency);
                    norm.Add((t2 - t1) * 1e6 / Stopwatch.Frequency);
                }
            }
        }
        // The batch buffer as training leaves it: both cores have just read every row (the first layer's products).
        var reader = new BufferReader(inputs);
        var afterBoth = new List<double>();
        var afterCopy = new List<double>();
        for (int batch = 0; batch + 64 <= order.Length; batch += 64)
        {
            bool readByBoth = batch / 640 % 2 == 0;
            if (readByBoth) NeuralDescent.Kernels.Common.WorkerPool.Run(reader, 2);
            long t0 = Stopwatch.GetTimestamp();
            training.CopyBatch(order.AsSpan(batch, 64), inputs, targets);
            (readByBoth ? afterBoth : afterCopy).Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
        afterBoth.Sort();
        afterCopy.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CopyBatch after both cores read the batch buffer: median {afterBoth[afterBoth.Count / 2]:F1} µs; after the previous copy only: {afterCopy[afterCopy.Count / 2]:F1} µs"));
        var hot = new List<double>();
        var prefetched = new List<double>();
        var scratch = new float[1 << 18];
        for (int batch = 0; batch + 64 <= order.Length; batch += 64)
        {
            training.CopyBatch(order.AsSpan(batch, 64), inputs, targets);
            long t0 = Stopwatch.GetTimestamp();
            training.CopyBatch(order.AsSpan(batch, 64), inputs, targets);
            hot.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            if (batch + 128 <= order.Length)
            {
                training.PrefetchInputs(order.AsSpan(batch + 64, 64));
                System.Numerics.Tensors.TensorPrimitives.Add(scratch, 1f, scratch); // ~1 MB of other work meanwhile
                long t1 = Stopwatch.GetTimestamp();
                training.CopyBatch(order.AsSpan(batch + 64, 64), inputs, targets);
                prefetched.Add(Stopwatch.GetElapsedTime(t1).TotalMicroseconds);
            }
        }
        hot.Sort();
        prefetched.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CopyBatch again (rows in cache): median {hot[hot.Count / 2]:F1} µs; after PrefetchInputs and other work: median {prefetched[prefetched.Count / 2]:F1} µs"));
        copy.Sort();
        norm.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CopyBatch(64 shuffled images): median {copy[copy.Count / 2]:F1} µs; gradient-norm pass over {parameters.Sum(p => p.Length):N0} values: median {norm[norm.Count / 2]:F1} µs ({sink > 0})"));
    }
}

/// <summary>Reads a whole buffer on every part, as each thread's share of a dense layer's products reads the whole batch.</summary>
internal sealed class BufferReader(float[] data) : NeuralDescent.Kernels.Common.IParallelJob
{
    private float _sink;

    public void RunPart(int part, int parts) => _sink += System.Numerics.Tensors.TensorPrimitives.Sum(data);
}
