using NeuralDescent.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Kernels;

[Collection(SimdSwitchCollection.Name)]
public class ComputeOptionsTests
{
    [Fact]
    public void WorkerSpin_CanBeTurnedOff_WithoutChangingResults()
    {
        TimeSpan saved = ComputeOptions.WorkerSpin;
        int threads = ComputeOptions.ThreadCount;
        try
        {
            saved.Should().Be(TimeSpan.FromMilliseconds(2));
            const int m = 200, n = 150, k = 300;
            float[] a = Rand.Floats(m * k, 1), b = Rand.Floats(k * n, 2);
            float[] spinning = new float[m * n], blocking = new float[m * n];
            ComputeOptions.ThreadCount = 2;
            MatrixKernels.Gemm(false, false, m, n, k, a, k, b, n, spinning, n, accumulate: false);
            ComputeOptions.WorkerSpin = TimeSpan.Zero;
            for (int round = 0; round < 20; round++)
            {
                Thread.Sleep(1); // each job now finds the worker asleep
                MatrixKernels.Gemm(false, false, m, n, k, a, k, b, n, blocking, n, accumulate: false);
                blocking.Should().Equal(spinning);
            }
            FluentActions.Invoking(() => ComputeOptions.WorkerSpin = TimeSpan.FromSeconds(2)).Should().Throw<ArgumentOutOfRangeException>();
            FluentActions.Invoking(() => ComputeOptions.WorkerSpin = TimeSpan.FromTicks(-1)).Should().Throw<ArgumentOutOfRangeException>();
        }
        finally
        {
            ComputeOptions.WorkerSpin = saved;
            ComputeOptions.ThreadCount = threads;
        }
    }
}
