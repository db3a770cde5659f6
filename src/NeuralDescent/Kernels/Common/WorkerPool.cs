using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Runtime.InteropServices;

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
    /// <remarks>
    /// A hand-off moves as few cache lines between cores as it can: the caller posts the job to each worker's own
    /// mailbox line with plain stores and, after its own part, polls each worker's done line; a spinning worker polls
    /// only its mailbox. An empty two-part job then costs about one cross-core round trip.
    /// </remarks>
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
            Worker[] workers = s_workers;
            Debug.Assert(parts <= 0xFF, "the part count travels in a ticket's low 8 bits");
            s_failure = null;
            long ticket = ++s_generation << 8 | (uint)parts;
            for (int i = 0; i < parts - 1; i++) workers[i].Post(job, ticket);
            // A worker seen asleep is woken at once; one that fell asleep while this was being posted is caught after part 0.
            for (int i = 0; i < parts - 1; i++) workers[i].WakeIfSleeping();

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

            Interlocked.MemoryBarrier();
            for (int i = 0; i < parts - 1; i++) workers[i].WakeIfSleeping();
            long waitingSince = Stopwatch.GetTimestamp();
            for (int i = 0; i < parts - 1; i++)
            {
                while (!workers[i].HasFinished(ticket)) Pause(waitingSince);
            }
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// One worker thread and the three cache lines it shares with callers, 128 bytes apart so that no two share a line
    /// (or an adjacent-line prefetch pair): the mailbox (ticket and job, written by the caller, polled by the worker), the
    /// done ticket (written by the worker, polled by the caller) and the sleeping flag (written only around a sleep, so
    /// the caller's check of it stays in its own cache).
    /// </summary>
    /// <remarks>
    /// A ticket is the pool's generation shifted left by 8 bits with the part count (at most 64) in the low bits. The
    /// mailbox keeps its last job referenced until the next one: jobs are long-lived per-thread objects.
    /// </remarks>
    // Workers live as long as the process (background threads), so their semaphores are never disposed.
#pragma warning disable CA1001
    [StructLayout(LayoutKind.Explicit)]
    private sealed class Worker
#pragma warning restore CA1001
    {
        [FieldOffset(128)] private long _ticket;
        [FieldOffset(136)] private IParallelJob? _job;
        [FieldOffset(256)] private long _done;
        [FieldOffset(384)] private int _sleeping;
        [FieldOffset(512)] private readonly SemaphoreSlim _signal = new(0);
        [FieldOffset(520)] private readonly int _part;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NeuralDescent kernel worker {part}" };
            thread.Start();
        }

        public void Post(IParallelJob job, long ticket)
        {
            _job = job;
            Volatile.Write(ref _ticket, ticket);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool HasFinished(long ticket) => Volatile.Read(ref _done) == ticket;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) == 1) _signal.Release();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            long seen = 0;
            while (true)
            {
                seen = WaitForTicket(seen);
                IParallelJob? job = _job;
                int parts = (int)(seen & 0xFF);
                if (job is not null)
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
                Volatile.Write(ref _done, seen);
            }
        }

        /// <summary>Spins for <see cref="ComputeOptions.WorkerSpin"/> on the mailbox, then sleeps until woken; returns the new ticket.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private long WaitForTicket(long seen)
        {
            long start = Stopwatch.GetTimestamp();
            while (true)
            {
                long ticket = Volatile.Read(ref _ticket);
                if (ticket != seen) return ticket;
                if (Stopwatch.GetTimestamp() - start < ComputeOptions.WorkerSpinTicks)
                {
                    Pause(start);
                    continue;
                }
                Volatile.Write(ref _sleeping, 1);
                Interlocked.MemoryBarrier();
                ticket = Volatile.Read(ref _ticket);
                if (ticket != seen)
                {
                    // A job arrived while going to sleep: if a caller already took the flag it also released the semaphore.
                    if (Interlocked.Exchange(ref _sleeping, 0) == 0) _signal.Wait();
                    return ticket;
                }
                _signal.Wait();
                start = Stopwatch.GetTimestamp();
            }
        }
    }
}
