using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Tests.Kernels;

[Collection(SimdSwitchCollection.Name)]
public class WorkerPoolTests
{
    [Fact]
    public void Run_WhenTheCallersPartThrows_ReturnsOnlyAfterTheWorkersFinished()
    {
        int threads = ComputeOptions.ThreadCount;
        try
        {
            ComputeOptions.ThreadCount = 2;
            var job = new FailingFirstPart();
            FluentActions.Invoking(() => WorkerPool.Run(job, 2)).Should().Throw<InvalidOperationException>().WithMessage("part 0 failed");
            // Read at once: the caller frees the job's buffers as soon as Run returns. (If the pool was busy with another
            // test's job, both parts ran inline and part 1 never started.)
            bool started = job.SecondStarted, finished = job.SecondFinished;
            (started && !finished).Should().BeFalse("Run returned while a worker was still inside part 1");
        }
        finally
        {
            ComputeOptions.ThreadCount = threads;
        }
    }

    [Fact]
    public void Run_RunsEveryPartOnce_AcrossPartCounts_AndWorkersThatSleepBetweenJobs()
    {
        int threads = ComputeOptions.ThreadCount;
        TimeSpan spin = ComputeOptions.WorkerSpin;
        try
        {
            ComputeOptions.ThreadCount = 4;
            var job = new CountingJob(4);
            for (int round = 0; round < 600; round++)
            {
                int parts = 2 + round % 3;
                // Every 50 rounds the workers are let fall asleep (or not spin at all), so jobs also meet sleeping workers.
                if (round % 100 == 50) ComputeOptions.WorkerSpin = TimeSpan.Zero;
                if (round % 100 == 0) ComputeOptions.WorkerSpin = spin;
                if (round % 50 == 25) Thread.Sleep(3);
                job.Reset();
                WorkerPool.Run(job, parts);
                job.Counts.Should().Equal(Enumerable.Range(0, 4).Select(p => p < parts ? 1 : 0), $"each of {parts} parts runs once and no other (round {round})");
                job.PartCountsSeen.Should().Be(parts, "every part is told the part count");
            }
        }
        finally
        {
            ComputeOptions.WorkerSpin = spin;
            ComputeOptions.ThreadCount = threads;
        }
    }

    [Fact]
    public void Run_WhenAWorkersPartThrows_RaisesItAndTheNextJobRuns()
    {
        int threads = ComputeOptions.ThreadCount;
        try
        {
            ComputeOptions.ThreadCount = 2;
            var failing = new FailingLastPart();
            // If the pool was busy with another test's job, both parts ran inline and the exception is not wrapped.
            Exception? caught = FluentActions.Invoking(() => WorkerPool.Run(failing, 2)).Should().Throw<Exception>().Which;
            (caught is AggregateException { InnerException: InvalidOperationException } || caught is InvalidOperationException)
                .Should().BeTrue($"the worker's exception is raised by Run (got {caught})");
            caught.ToString().Should().Contain("part 1 failed");
            var job = new CountingJob(2);
            WorkerPool.Run(job, 2);
            job.Counts.Should().Equal(1, 1);
        }
        finally
        {
            ComputeOptions.ThreadCount = threads;
        }
    }

    private sealed class CountingJob(int maxParts) : IParallelJob
    {
        private readonly int[] _counts = new int[maxParts];
        private int _partCounts;

        public IReadOnlyList<int> Counts => _counts;
        public int PartCountsSeen => Volatile.Read(ref _partCounts);

        public void Reset()
        {
            Array.Clear(_counts);
            _partCounts = 0;
        }

        public void RunPart(int part, int parts)
        {
            Interlocked.Increment(ref _counts[part]);
            // Every part sees the same count; a mismatch leaves a value no part count can equal.
            if (Interlocked.CompareExchange(ref _partCounts, parts, 0) is int first && first != 0 && first != parts) Volatile.Write(ref _partCounts, -1);
        }
    }

    private sealed class FailingLastPart : IParallelJob
    {
        public void RunPart(int part, int parts)
        {
            if (part == parts - 1) throw new InvalidOperationException($"part {part} failed");
        }
    }

    private sealed class FailingFirstPart : IParallelJob
    {
        private volatile bool _secondStarted, _secondFinished;

        public bool SecondStarted => _secondStarted;
        public bool SecondFinished => _secondFinished;

        public void RunPart(int part, int parts)
        {
            if (part == 0)
            {
                // Throw while part 1 is under way (or after 2 s, when it runs inline after this one).
                SpinWait.SpinUntil(() => _secondStarted, TimeSpan.FromSeconds(2));
                throw new InvalidOperationException("part 0 failed");
            }
            _secondStarted = true;
            Thread.Sleep(200);
            _secondFinished = true;
        }
    }
}
