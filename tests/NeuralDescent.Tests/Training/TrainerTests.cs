using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Training;

/// <summary>Fast training tests on small synthetic data.</summary>
public class TrainerTests
{
    /// <summary>Two Gaussian-ish blobs per class in 4-D, labels by quadrant of the first two features.</summary>
    private static Dataset Synthetic(int count, ulong seed)
    {
        float[] x = Rand.Floats(count * 4, seed);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = (x[i * 4] > 0 ? 1 : 0) + (x[i * 4 + 1] > 0 ? 2 : 0);
        return Dataset.FromLabels(x, 4, labels, 4);
    }

    private static Network SmallNetwork(int seed) => new(seed, new Dense(4, 16), new Tanh(), new Dense(16, 4), new Softmax());

    [Fact]
    public void Fit_LearnsASimpleProblem()
    {
        var network = SmallNetwork(1);
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.5f), new TrainerOptions { Epochs = 20, BatchSize = 16, Seed = 2 });
        TrainingHistory history = trainer.Fit(network, Synthetic(800, 3), Synthetic(400, 4), cancellationToken: TestContext.Current.CancellationToken);
        history.Epochs.Should().HaveCount(20);
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss / 2);
        history.Last!.TestAccuracy.Should().BeGreaterThan(0.9);
        history.Epochs.Select(e => e.Epoch).Should().Equal(Enumerable.Range(1, 20));
    }

    [Fact]
    public void Fit_SameSeed_GivesBitwiseIdenticalWeights()
    {
        float[] Train()
        {
            var network = SmallNetwork(7);
            new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 3, BatchSize = 10, Seed = 11 })
                .Fit(network, Synthetic(300, 5));
            return network.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        }
        float[] first = Train(), second = Train();
        first.Select(BitConverter.SingleToInt32Bits).Should().Equal(second.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Fit_DifferentShuffleSeed_GivesDifferentWeights()
    {
        float[] Train(int seed)
        {
            var network = SmallNetwork(7);
            new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 1, BatchSize = 10, Seed = seed }).Fit(network, Synthetic(300, 5));
            return network.Parameters[0].Values.ToArray();
        }
        Train(1).Should().NotEqual(Train(2));
    }

    [Fact]
    public void Fit_ReportsProgressEveryBatchAndAtEpochEnd()
    {
        var reports = new List<TrainingProgress>();
        var trainer = new Trainer(new QuadraticCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 2, BatchSize = 32 });
        trainer.Fit(SmallNetwork(1), Synthetic(100, 1), null, new SynchronousProgress<TrainingProgress>(reports.Add), cancellationToken: TestContext.Current.CancellationToken);
        // 100 samples / 32 = 4 batches (the last holds 4), plus one epoch-end report, per epoch.
        reports.Should().HaveCount(2 * (4 + 1));
        reports.Where(r => r.CompletedEpoch is not null).Select(r => r.Epoch).Should().Equal(1, 2);
        reports[3].Batch.Should().Be(4);
        reports[3].Batches.Should().Be(4);
    }

    [Fact]
    public void Fit_Cancelled_StopsAtABatchBoundaryWithTheNetworkIntact()
    {
        using var cts = new CancellationTokenSource();
        var network = SmallNetwork(1);
        float[] initial = network.Parameters[0].Values.ToArray();
        int batches = 0;
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.CompletedEpoch is null && ++batches == 5) cts.Cancel();
        });
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 3, BatchSize = 10 });
        TrainingHistory history = trainer.Fit(network, Synthetic(200, 1), null, progress, cts.Token);
        history.Cancelled.Should().BeTrue();
        history.Epochs.Should().BeEmpty();
        batches.Should().Be(5);
        float[] after = network.Parameters[0].Values.ToArray();
        after.Should().NotEqual(initial).And.OnlyContain(v => float.IsFinite(v));
        network.Predict(new float[4]).Sum().Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void Fit_Diverging_ThrowsNamingEpochAndBatch()
    {
        // Quadratic cost on a linear output with a huge learning rate overflows within a few batches.
        var network = new Network(1, new Dense(4, 4));
        float[] x = Rand.Floats(400, 1, -100, 100);
        var data = Dataset.FromTargets(x, 4, Rand.Floats(400, 2), 4);
        var trainer = new Trainer(new QuadraticCost(), new Sgd(10f), new TrainerOptions { Epochs = 5, BatchSize = 10 });
        FluentActions.Invoking(() => trainer.Fit(network, data)).Should().Throw<InvalidOperationException>()
            .WithMessage("Training diverged: the Quadratic loss is * at epoch 1, batch * of 10.*");
    }

    [Fact]
    public void Fit_DataOfWrongShape_IsRejectedBeforeTraining()
    {
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.1f));
        FluentActions.Invoking(() => trainer.Fit(SmallNetwork(1), Dataset.FromLabels(new float[10], 5, [0, 1], 4)))
            .Should().Throw<ArgumentException>().WithMessage("The dataset has 5 features*expects 4*");
    }

    [Fact]
    public void Constructor_RejectsBadOptions()
    {
        FluentActions.Invoking(() => new Trainer(new QuadraticCost(), new Sgd(1f), new TrainerOptions { BatchSize = 0 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new Trainer(new QuadraticCost(), new Sgd(1f), new TrainerOptions { Epochs = 0 })).Should().Throw<ArgumentOutOfRangeException>();
    }
}
