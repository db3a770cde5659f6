using System.Diagnostics;
using System.Globalization;

namespace NeuralDescent.Benchmarks.Probes;

/// <summary>
/// How much of the wall clock a busy thread actually gets: one thread per core (or the count given) reads the clock in
/// a tight loop for a few seconds and adds up every gap of 20 µs or more between two reads, when the thread was not
/// running (the guest's scheduler or the host took its core):
/// <c>dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- host-gaps [threads] [seconds]</c>.
/// On a quiet machine the lost share is a fraction of a percent; a training step that waits for both cores loses
/// whatever either of them loses.
/// </summary>
internal static class HostGapsProbe
{
    public static void Run(int threads, double seconds)
    {
        var results = new string[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => results[t] = Spin(t, seconds)) { IsBackground = true }).ToArray();
        foreach (Thread worker in workers) worker.Start();
        foreach (Thread worker in workers) worker.Join();
        foreach (string line in results) Console.WriteLine(line);
    }

    private static string Spin(int thread, double seconds)
    {
        long threshold = Stopwatch.Frequency / 50_000; // 20 µs
        long start = Stopwatch.GetTimestamp(), end = start + (long)(seconds * Stopwatch.Frequency), last = start;
        long gaps = 0, over100us = 0, over1ms = 0, lost = 0, longest = 0;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            long gap = now - last;
            last = now;
            if (gap >= threshold)
            {
                gaps++;
                lost += gap;
                longest = Math.Max(longest, gap);
                if (gap * 10_000 >= Stopwatch.Frequency) over100us++;
                if (gap * 1_000 >= Stopwatch.Frequency) over1ms++;
            }
            if (now >= end) break;
        }
        double total = last - start;
        return string.Create(CultureInfo.InvariantCulture,
            $"thread {thread}: {gaps} gaps of 20 µs or more ({over100us} over 100 µs, {over1ms} over 1 ms), {lost * 1e3 / Stopwatch.Frequency:F1} ms lost of {total * 1e3 / Stopwatch.Frequency:F0} ms ({100.0 * lost / total:F1} %), longest {longest * 1e3 / Stopwatch.Frequency:F2} ms");
    }
}
