using System.Runtime.CompilerServices;
using System.Diagnostics;

namespace NeuralDescent.Kernels.Common;

/// <summary>A unit of parallel work split into fixed parts; part i writes a disjoint slice of the output.</summary>
internal interface IParallelJob
{
    void RunPart(int part, int parts);
}

/// <summary>
/// Persistent worker threads for the kernels. <see cref="Run"/> hands part 0 to the calling thread and part i to
/// worker i, so the work each thread does depends only on the part count, never on timing.
/// </summary>
/// <remarks>
/// Workers spin for <see cref="ComputeOptions.WorkerSpin"/> (default 2 ms) after a job (the next GEMM of a training step usually follows within microseconds),
/// then block on a semaphore. If the pool is already busy (two threads training at once), the caller runs every part
/// itself, which gives the same results.
/// </remarks>
internal static class WorkerPool
{
    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    private static IParallelJob? s_job;
    private static int s_parts;
    private static int s_pending;
    private static long s_generation;
    private static Exception? s_failure;


    /// <summary>
    /// How long a wait polls with a bare pause before it also yields the core: a hand-off then costs tens of nanoseconds
    /// instead of a sched_yield per poll (I1's 128×784 GEMV on two threads: 2.96 → 2.2 µs), while a pool larger than the
    /// machine (more threads than cores) still lets the thread it waits for run.
    /// </summary>
    private static readonly long TightSpinTicks = Stopwatch.Frequency / 10_000; // 100 µs

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause(long waitingSince)
    {
        if (Stopwatch.GetTimestamp() - waitingSince < TightSpinTicks) Thread.SpinWait(1);
        else Thread.Yield();
    }

    [ThreadStatic] private static bool t_insidePart;

    /// <summary>
    /// The threads a kernel called now may use: 1 inside a part of a running job (the job already keeps every thread
    /// busy, so a nested kernel runs serially on its own thread), otherwise <see cref="ComputeOptions.ThreadCount"/>.
    /// Kernels give the same results for every thread count, so this changes speed only.
    /// </summary>
    public static int AvailableThreads => t_insidePart ? 1 : ComputeOptions.ThreadCount;

    /// <summary>
    /// Benchmarks only: run each job's parts through <see cref="Parallel.For(int, int, Action{int})"/> on the .NET thread
    /// pool instead of the persistent workers (same parts, so the same results), to measure what the workers save.
    /// </summary>
    internal static bool UseParallelFor { get; set; }

    /// <summary>Runs parts 0..parts−1 of <paramref name="job"/>, in parallel when the pool is free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IParallelJob job, int parts)
    {
        if (parts <= 1)
        {
            job.RunPart(0, 1);
            return;
        }
        if (UseParallelFor)
        {
            RunWithParallelFor(job, parts);
            return;
        }
        // Busy (another thread is dispatching) or re-entered from inside a part (Monitor is re-entrant): run inline.
        if (Monitor.IsEntered(s_gate) || !Monitor.TryEnter(s_gate))
        {
            for (int p = 0; p < parts; p++) RunMarked(job, p, parts);
            return;
        }
        try
        {
            EnsureWorkers(parts - 1);
            s_job = job;
            s_parts = parts;
            s_failure = null;
            // Every worker checks in for every job (idle parts included), so none can lag a generation behind.
            Volatile.Write(ref s_pending, s_workers.Length);
            Interlocked.Increment(ref s_generation);
            foreach (Worker worker in s_workers) worker.Wake();

            // The workers are waited for even when part 0 throws: the caller frees or unpins the job's buffers as soon as
            // Run returns, and a worker still inside its part would then touch them.
            Exception? own = null;
            try
            {
                RunMarked(job, 0, parts);
            }
            catch (Exception failure)
            {
                own = failure;
            }

            long waitingSince = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref s_pending) != 0) Pause(waitingSince);
            s_job = null;
            if (own is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(own);
            if (s_failure is Exception e) throw new AggregateException("A kernel worker failed.", e);
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    // A method of its own: a lambda capturing Run's parameters would allocate its closure on every Run, taken or not.
    private static void RunWithParallelFor(IParallelJob job, int parts) => Parallel.For(0, parts, p => RunMarked(job, p, parts));

    private static void RunMarked(IParallelJob job, int part, int parts)
    {
        bool outer = t_insidePart;
        t_insidePart = true;
        try
        {
            job.RunPart(part, parts);
        }
        finally
        {
            t_insidePart = outer;
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) workers[i] = new Worker(i + 1);
        s_workers = workers;
    }

    // Workers live as long as the process (background threads), so their semaphores are never disposed.
#pragma warning disable CA1001
    private sealed class Worker
#pragma warning restore CA1001
    {
        private readonly int _part;
        private readonly SemaphoreSlim _signal = new(0);
        private int _sleeping;
        private long _seen;

        public Worker(int part)
        {
            _part = part;
            _seen = Interlocked.Read(ref s_generation);
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NeuralDescent kernel worker {part}" };
            thread.Start();
        }

        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                WaitForJob();
                _seen = Interlocked.Read(ref s_generation);
                IParallelJob? job = s_job;
                int parts = s_parts;
                if (job is not null && _part < parts)
                {
                    try
                    {
                        RunMarked(job, _part, parts);
                    }
                    catch (Exception e)
                    {
                        s_failure = e;
                    }
                }
                Interlocked.Decrement(ref s_pending);
            }
        }

        private void WaitForJob()
        {
            long start = Stopwatch.GetTimestamp();
            while (Interlocked.Read(ref s_generation) == _seen)
            {
                if (Stopwatch.GetTimestamp() - start < ComputeOptions.WorkerSpinTicks)
                {
                    Pause(start);
                    continue;
                }
                Volatile.Write(ref _sleeping, 1);
                if (Interlocked.Read(ref s_generation) != _seen)
                {
                    // A job arrived while going to sleep: if Wake() already consumed the flag it also released the semaphore.
                    if (Interlocked.Exchange(ref _sleeping, 0) == 0) _signal.Wait();
                    return;
                }
                _signal.Wait();
                start = Stopwatch.GetTimestamp();
            }
        }
    }
}
