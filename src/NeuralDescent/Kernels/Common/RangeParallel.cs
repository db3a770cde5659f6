using System.Runtime.CompilerServices;

namespace NeuralDescent.Kernels.Common;

/// <summary>Work over the items 0..count−1 that can be cut into contiguous ranges, each independent of the others.</summary>
internal interface IRangeWork
{
    /// <summary>Processes items [start, end).</summary>
    void Run(int start, int end);
}

/// <summary>Runs an <see cref="IRangeWork"/> on the kernel threads, each taking a fixed range of the items.</summary>
/// <remarks>Ranges are independent, so the split (and the thread count) cannot change a result. Allocates nothing.</remarks>
internal static class RangeParallel
{
    [ThreadStatic] private static Job? t_job;

    /// <summary>Runs items [0, count) in at most one range per kernel thread, with at least <paramref name="minimumPerPart"/> items in a range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IRangeWork work, int count, int minimumPerPart)
    {
        int parts = Math.Clamp(count / Math.Max(1, minimumPerPart), 1, WorkerPool.AvailableThreads);
        if (parts == 1)
        {
            work.Run(0, count);
            return;
        }
        Job job = t_job ??= new Job();
        job.Work = work;
        job.Count = count;
        try
        {
            WorkerPool.Run(job, parts);
        }
        finally
        {
            job.Work = null;
        }
    }

    private sealed class Job : IParallelJob
    {
        public IRangeWork? Work;
        public int Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
            => Work!.Run((int)((long)Count * part / parts), (int)((long)Count * (part + 1) / parts));
    }
}
