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
}
