using System.Diagnostics;
using System.Globalization;
using NeuralDescent.Kernels;

namespace NeuralDescent.Benchmarks.Probes;

/// <summary>
/// How much of a two-thread GEMM's loss against one thread is the machine's and how much the kernel's:
/// <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- twin-gemm 128 512 512</c> times C = A·Bᵀ
/// (m × n × k) on the worker pool's two threads, each half of C (n / 2 columns) alone on one thread, and both halves at
/// once on two plain threads started together by a barrier, each with one kernel thread. When the twins take as long
/// as the pool, what is lost is the cores' shared resources, not the hand-off.
/// </summary>
internal static class TwinGemmProbe
{
    public static void Run(int m, int n, int k, int rounds = 5, int reps = 2000)
    {
        var random = new NeuralDescent.Randomness.RandomGenerator(1);
        float[] a = Enumerable.Range(0, m * k).Select(_ => random.NextSingle()).ToArray();
        float[] b = Enumerable.Range(0, n * k).Select(_ => random.NextSingle()).ToArray();
        float[] c = new float[m * n];
        int half = n / 2;
        using var start = new Barrier(2);
        for (int round = 0; round < rounds; round++)
        {
            ComputeOptions.ThreadCount = 1;
            var twins = new double[2];
            var threads = new Thread[2];
            for (int t = 0; t < 2; t++)
            {
                int part = t;
                threads[t] = new Thread(() =>
                {
                    var times = new double[reps];
                    for (int i = 0; i < reps; i++)
                    {
                        start.SignalAndWait();
                        long t0 = Stopwatch.GetTimestamp();
                        MatrixKernels.Gemm(false, true, m, half, k, a, k, b.AsSpan(part * half * k), k, c.AsSpan(part * half), n, false);
                        times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    }
                    twins[part] = Median(times);
                });
                threads[t].Start();
            }
            foreach (Thread thread in threads) thread.Join();
            double alone = Time(reps, () => MatrixKernels.Gemm(false, true, m, half, k, a, k, b, k, c, n, false));
            ComputeOptions.ThreadCount = 2;
            double pool = Time(reps, () => MatrixKernels.Gemm(false, true, m, n, k, a, k, b, k, c, n, false));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"nt {m}x{n}x{k}: half alone {alone:F1} µs, both halves at once {twins[0]:F1} / {twins[1]:F1} µs, pool on 2 threads {pool:F1} µs (medians of {reps})"));
        }
    }

    private static double Time(int reps, Action gemm)
    {
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            gemm();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        return Median(times);
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}
