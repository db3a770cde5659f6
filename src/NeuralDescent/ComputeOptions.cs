namespace NeuralDescent;

/// <summary>Process-wide settings of the compute kernels.</summary>
public static class ComputeOptions
{
    private static int s_threadCount = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Threads the matrix kernels may use (the calling thread plus persistent workers); default: the processor count.
    /// </summary>
    /// <remarks>
    /// Work is split into fixed tiles of the output, each computed by one thread in the same order whatever the split,
    /// so results are bitwise identical for every thread count. Set it to 1 to keep NeuralDescent on the calling thread.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1 or more than 64.</exception>
    public static int ThreadCount
    {
        get => s_threadCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64);
            s_threadCount = value;
        }
    }

    private static long s_workerSpinTicks = System.Diagnostics.Stopwatch.Frequency / 500;

    /// <summary>
    /// How long a kernel worker thread keeps polling for the next job after finishing one, before it blocks; default 2 ms.
    /// </summary>
    /// <remarks>
    /// Training issues its matrix products microseconds apart, and a polling worker picks the next one up in about
    /// 0.2 µs instead of the tens of microseconds a wake-up costs. The price is CPU time: after the last job of a burst,
    /// each of the <see cref="ThreadCount"/> − 1 workers spins for this long (at most 2 ms by default) and then sleeps,
    /// using nothing until the next job. A server that predicts now and then and shares its cores with other work can
    /// set <see cref="TimeSpan.Zero"/> to have workers block at once (each call then pays the wake-up), or set
    /// <see cref="ThreadCount"/> to 1 so no worker is used at all. Results do not depend on this setting.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than one second.</exception>
    public static TimeSpan WorkerSpin
    {
        get => TimeSpan.FromSeconds((double)Volatile.Read(ref s_workerSpinTicks) / System.Diagnostics.Stopwatch.Frequency);
        set
        {
            if (value < TimeSpan.Zero || value > TimeSpan.FromSeconds(1))
                throw new ArgumentOutOfRangeException(nameof(value), value, "ComputeOptions.WorkerSpin must be between 0 and 1 second.");
            Volatile.Write(ref s_workerSpinTicks, (long)(value.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
        }
    }

    /// <summary><see cref="WorkerSpin"/> in <see cref="System.Diagnostics.Stopwatch"/> ticks, as the workers read it.</summary>
    internal static long WorkerSpinTicks => Volatile.Read(ref s_workerSpinTicks);
}
