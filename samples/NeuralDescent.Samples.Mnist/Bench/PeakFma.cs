using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MnistSample.Bench;

/// <summary>
/// The machine's FP32 FMA ceiling as managed code sees it: 12 independent FMA chains per thread (enough to cover the
/// FMA latency on two pipes), on every requested thread at once, at each vector width the CPU accelerates (128-bit on
/// ARM64, 256 and 512 on x64). The peak is the fastest width: a core that runs 512-bit FMAs at full rate does twice
/// the work of 256-bit ones, one that splits them in two does the same.
/// </summary>
public static class PeakFma
{
    /// <summary>The vector widths, in bits, that this CPU accelerates.</summary>
    public static IReadOnlyList<int> AcceleratedWidths { get; } =
        [.. new[] { (128, Vector128.IsHardwareAccelerated), (256, Vector256.IsHardwareAccelerated), (512, Vector512.IsHardwareAccelerated) }
            .Where(w => w.Item2).Select(w => w.Item1)];

    /// <summary>GFLOP/s at the fastest accelerated width (measured at each), with that width in bits.</summary>
    public static (double Gflops, int Bits) MeasurePeak(int threads, TimeSpan durationPerWidth)
    {
        (double Gflops, int Bits) best = (double.NaN, 0);
        foreach (int bits in AcceleratedWidths)
        {
            double gflops = Measure(threads, durationPerWidth, bits);
            if (!(gflops <= best.Gflops)) best = (gflops, bits);
        }
        return best;
    }

    /// <summary>Measures GFLOP/s (2 FLOP per lane per FMA) at <paramref name="bits"/>-wide vectors over <paramref name="duration"/> on <paramref name="threads"/> threads.</summary>
    public static double Measure(int threads, TimeSpan duration, int bits)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var counts = new long[threads];
        var workers = new Thread[threads];
        long start = Stopwatch.GetTimestamp();
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() => counts[index] = Spin(deadline, bits)) { IsBackground = true };
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return counts.Sum() * BlockFlop(bits) / seconds / 1e9;
    }

    /// <summary>
    /// Fixed work for benchmark harnesses: <paramref name="blocksPerThread"/> blocks of 12×256 FMAs of <paramref name="bits"/>-wide
    /// vectors on each of <paramref name="threads"/> threads (the caller's included).
    /// </summary>
    public static float RunFixed(int threads, int blocksPerThread, int bits)
    {
        var others = new Thread[threads - 1];
        var results = new float[threads];
        for (int t = 1; t < threads; t++)
        {
            int index = t;
            others[t - 1] = new Thread(() => results[index] = Blocks(blocksPerThread, bits)) { IsBackground = true };
            others[t - 1].Start();
        }
        results[0] = Blocks(blocksPerThread, bits);
        foreach (Thread thread in others) thread.Join();
        return results.Sum();
    }

    /// <summary>FLOP done by <see cref="RunFixed"/>.</summary>
    public static double FixedFlop(int threads, int blocksPerThread, int bits) => (double)threads * blocksPerThread * BlockFlop(bits);

    /// <summary>12 chains × 256 FMAs × bits/32 lanes × 2 FLOP.</summary>
    private static double BlockFlop(int bits) => 12.0 * 256 * (bits / 32) * 2;

    private static float Blocks(int count, int bits)
    {
        float sink = 0;
        for (int i = 0; i < count; i++) sink += Block(bits);
        return sink;
    }

    private static long Spin(long deadline, int bits)
    {
        long iterations = 0;
        float sink = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            sink += Block(bits);
            iterations++;
        }
        return sink == 42f ? iterations + 1 : iterations; // keep the result alive
    }

    private static float Block(int bits) => bits switch { 512 => Block512(), 256 => Block256(), _ => Block128() };

    // Each block: 12 chains × 256 FMAs with no call inside, so the JIT keeps every chain in a register.

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Block128()
    {
        Vector128<float> a = Vector128.Create(0.999f), b = Vector128.Create(1e-7f);
        Vector128<float> c0 = Vector128.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int r = 0; r < 256; r++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, a, b); c1 = Vector128.FusedMultiplyAdd(c1, a, b); c2 = Vector128.FusedMultiplyAdd(c2, a, b);
            c3 = Vector128.FusedMultiplyAdd(c3, a, b); c4 = Vector128.FusedMultiplyAdd(c4, a, b); c5 = Vector128.FusedMultiplyAdd(c5, a, b);
            c6 = Vector128.FusedMultiplyAdd(c6, a, b); c7 = Vector128.FusedMultiplyAdd(c7, a, b); c8 = Vector128.FusedMultiplyAdd(c8, a, b);
            c9 = Vector128.FusedMultiplyAdd(c9, a, b); c10 = Vector128.FusedMultiplyAdd(c10, a, b); c11 = Vector128.FusedMultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Block256()
    {
        Vector256<float> a = Vector256.Create(0.999f), b = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int r = 0; r < 256; r++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Block512()
    {
        Vector512<float> a = Vector512.Create(0.999f), b = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int r = 0; r < 256; r++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b); c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b); c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b); c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).GetElement(0);
    }
}
