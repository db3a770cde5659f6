using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Tests.Kernels;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Training;

[Collection(SimdSwitchCollection.Name)]
public class GradientNormTests
{
    // 300·256 + 256 + 256·4 + 4 = 78,084 parameters: enough for the norms to be taken on the kernel threads.
    private static Network Wide() => new(3, new Dense(300, 256), new ReLU(), new Dense(256, 4), new Softmax());

    private static Dataset Data()
    {
        float[] x = Rand.Floats(96 * 300, 7);
        int[] labels = Enumerable.Range(0, 96).Select(i => (x[i * 300] > 0 ? 1 : 0) + (x[i * 300 + 1] > 0 ? 2 : 0)).ToArray();
        return Dataset.FromLabels(x, 300, labels, 4);
    }

    private sealed class Recorder : ITrainingCallback
    {
        public List<BatchSummary> Batches { get; } = [];

        public void OnBatchEnd(TrainingContext context, BatchSummary batch) => Batches.Add(batch);
    }

    [Fact]
    public void ClippedTraining_ReportsTheSameNorms_AndWeights_ForAnyThreadCount()
    {
        int saved = ComputeOptions.ThreadCount;
        try
        {
            (float[] Norms, float[] Weights) Train(int threads)
            {
                ComputeOptions.ThreadCount = threads;
                Network network = Wide();
                var recorder = new Recorder();
                var options = new TrainerOptions { Epochs = 2, BatchSize = 32, Seed = 5, GradientClipNorm = 0.05f, Callbacks = [recorder] };
                new Trainer(new CrossEntropyCost(), new Sgd(0.5f), options).Fit(network, Data(), cancellationToken: TestContext.Current.CancellationToken);
                return (recorder.Batches.Select(b => b.GradientNorm).ToArray(), network.Parameters.SelectMany(p => p.Values.ToArray()).ToArray());
            }
            (float[] norms, float[] weights) = Train(1);
            norms.Should().HaveCount(6).And.OnlyContain(n => n > 0.05f, "every batch is clipped, so the norm decides the update");
            foreach (int threads in new[] { 2, 3 })
            {
                (float[] n, float[] w) = Train(threads);
                n.Select(BitConverter.SingleToInt32Bits).Should().Equal(norms.Select(BitConverter.SingleToInt32Bits), $"{threads} threads");
                w.Select(BitConverter.SingleToInt32Bits).Should().Equal(weights.Select(BitConverter.SingleToInt32Bits), $"{threads} threads");
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Fact]
    public void ReportedNorm_IsTheNormOfTheBatchGradient()
    {
        int saved = ComputeOptions.ThreadCount;
        try
        {
            ComputeOptions.ThreadCount = 2;
            Dataset data = Data();
            var recorder = new Recorder();
            var options = new TrainerOptions { Epochs = 1, BatchSize = 96, Shuffle = false, Callbacks = [recorder] };
            var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.1f), options);
            Network network = Wide(), twin = Wide();
            // The gradient of the single batch, from a twin that is not stepped.
            float[] x = new float[96 * 300], t = new float[96 * 4];
            data.CopyBatch(Enumerable.Range(0, 96).ToArray(), x, t);
            trainer.ComputeGradients(twin, x, t, 96);
            double expected = Math.Sqrt(twin.Parameters.Sum(p => p.Gradient.ToArray().Sum(g => (double)g * g)));
            trainer.Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);
            ((double)recorder.Batches.Single().GradientNorm).Should().BeApproximately(expected, expected * 1e-5);
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }
}
