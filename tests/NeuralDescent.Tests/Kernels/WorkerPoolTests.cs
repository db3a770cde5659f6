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
