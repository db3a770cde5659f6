using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MnistSample.Bench;

/// <summary>
/// The machine's FP32 FMA ceiling as managed code sees it: 12 independent Vector256 FMA chains per thread
/// (enough to cover the FMA latency on two pipes), on every requested thread at once.
/// </summary>
public static class PeakFma
{
    /// <summary>Measures GFLOP/s (2 FLOP per lane per FMA) over <paramref name="duration"/> on <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads, TimeSpan duration)
    {
        if (!Fma.IsSupported) return double.NaN;
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var counts = new long[threads];
        var workers = new Thread[threads];
        long start = Stopwatch.GetTimestamp();
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() => counts[index] = Spin(deadline)) { IsBackground = true };
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long iterations = counts.Sum();
        // Each iteration: 12 chains × 256 FMAs (unrolled) × 8 lanes × 2 FLOP.
        return iterations * 12.0 * 256 * 8 * 2 / seconds / 1e9;
    }

    /// <summary>
    /// Fixed work for benchmark harnesses: <paramref name="blocksPerThread"/> blocks of 12×256 Vector256 FMAs on each of
    /// <paramref name="threads"/> threads (the caller's included). FLOP = threads · blocks · 12 · 256 · 8 · 2.
    /// </summary>
    public static float RunFixed(int threads, int blocksPerThread)
    {
        var others = new Thread[threads - 1];
        var results = new float[threads];
        for (int t = 1; t < threads; t++)
        {
            int index = t;
            others[t - 1] = new Thread(() => results[index] = Blocks(blocksPerThread)) { IsBackground = true };
            others[t - 1].Start();
        }
        results[0] = Blocks(blocksPerThread);
        foreach (Thread thread in others) thread.Join();
        return results.Sum();
    }

    /// <summary>FLOP done by <see cref="RunFixed"/>.</summary>
    public static double FixedFlop(int threads, int blocksPerThread) => (double)threads * blocksPerThread * 12 * 256 * 8 * 2;

    private static float Blocks(int count)
    {
        float sink = 0;
        for (int i = 0; i < count; i++) sink += Block();
        return sink;
    }

    private static long Spin(long deadline)
    {
        long iterations = 0;
        float sink = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            sink += Block();
            iterations++;
        }
        return sink == 42f ? iterations + 1 : iterations; // keep the result alive
    }

    /// <summary>12 chains × 256 FMAs with no call inside, so the JIT keeps every chain in a register.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Block()
    {
        Vector256<float> a = Vector256.Create(0.999f), b = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector256<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int r = 0; r < 256; r++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b); c2 = Fma.MultiplyAdd(c2, a, b);
            c3 = Fma.MultiplyAdd(c3, a, b); c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b); c8 = Fma.MultiplyAdd(c8, a, b);
            c9 = Fma.MultiplyAdd(c9, a, b); c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }
}
