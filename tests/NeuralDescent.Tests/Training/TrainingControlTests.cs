using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;
using NeuralDescent.Metrics;

namespace NeuralDescent.Tests.Training;

public class TrainingControlTests
{
    private static Dataset Synthetic(int count, ulong seed, bool noisyLabels = false)
    {
        float[] x = Rand.Floats(count * 4, seed);
        var random = new RandomGenerator(seed + 100);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++)
            labels[i] = noisyLabels && random.NextSingle() < 0.5f ? random.NextInt32(4) : (x[i * 4] > 0 ? 1 : 0) + (x[i * 4 + 1] > 0 ? 2 : 0);
        return Dataset.FromLabels(x, 4, labels, 4);
    }

    private static Network Small(int seed, int hidden = 16) => new(seed, new Dense(4, hidden), new Tanh(), new Dense(hidden, 4), new Softmax());

    [Fact]
    public void TrainingAccuracy_CountsEachShuffledBatchAgainstItsOwnLabels()
    {
        // With η = 1e-30 no weight moves (every update is below half an ulp), so the forward passes of the epoch see the
        // network that Evaluate sees afterwards: the counts must agree exactly, last partial batch (203 = 12·16 + 11) included.
        Dataset data = Synthetic(203, 5, noisyLabels: true);
        Network network = Small(3);
        float[] before = network.Parameters[0].Values.ToArray();
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(1e-30f), new TrainerOptions { Epochs = 1, BatchSize = 16, Seed = 9 });
        EpochSummary epoch = trainer.Fit(network, data, cancellationToken: TestContext.Current.CancellationToken).Epochs[0];
        network.Parameters[0].Values.ToArray().Should().Equal(before);
        double expected = Evaluator.Evaluate(network, data, new CrossEntropyCost()).Accuracy;
        expected.Should().BeInRange(0.05, 0.95, "a count of none or all would pass unnoticed");
        epoch.TrainingAccuracy.Should().Be(expected);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(99, 1.0)]
    [InlineData(100, 0.5)]
    [InlineData(250, 0.25)]
    public void StepDecay_HalvesEveryEpochInterval(long step, double expected) =>
        LearningRateSchedule.StepDecay(everyEpochs: 1, gamma: 0.5).Factor(step, stepsPerEpoch: 100).Should().Be(expected);

    [Fact]
    public void Schedules_MatchTheirFormulas()
    {
        LearningRateSchedule.Exponential(0.9).Factor(200, 100).Should().BeApproximately(0.81, 1e-12);
        var cosine = LearningRateSchedule.Cosine(totalEpochs: 10, minFactor: 0.1);
        cosine.Factor(0, 100).Should().BeApproximately(1.0, 1e-12);
        cosine.Factor(500, 100).Should().BeApproximately(0.55, 1e-12);
        cosine.Factor(1000, 100).Should().BeApproximately(0.1, 1e-12);
        cosine.Factor(5000, 100).Should().BeApproximately(0.1, 1e-12);
        var warm = LearningRateSchedule.Cosine(10).WithLinearWarmup(warmupEpochs: 1);
        warm.Factor(0, 100).Should().BeApproximately(0.01, 1e-12);
        warm.Factor(49, 100).Should().BeApproximately(0.5, 1e-12);
        warm.Factor(100, 100).Should().BeApproximately(1.0, 1e-12); // cosine starts afresh after the warm-up
        LearningRateSchedule.StepDecay(1, 0.5).Times(LearningRateSchedule.Exponential(0.5)).Factor(100, 100).Should().BeApproximately(0.25, 1e-12);
    }

    [Fact]
    public void Fit_AppliesTheScheduleAndRestoresTheBaseRate()
    {
        var recorder = new Recorder();
        var sgd = new Sgd(0.4f);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 50, LearningRateSchedule = LearningRateSchedule.StepDecay(1, 0.5), Callbacks = [recorder] };
        new Trainer(new CrossEntropyCost(), sgd, options).Fit(Small(1), Synthetic(100, 1), cancellationToken: TestContext.Current.CancellationToken);
        recorder.Batches.Select(b => b.LearningRate).Should().Equal(0.4f, 0.4f, 0.2f, 0.2f);
        sgd.LearningRate.Should().Be(0.4f);
        recorder.Epochs.Select(e => e.LearningRate).Should().Equal(0.4f, 0.2f);
    }

    [Fact]
    public void Callbacks_AreCalledInOrder()
    {
        var recorder = new Recorder();
        new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 3, BatchSize = 40, Callbacks = [recorder] }).Fit(Small(1), Synthetic(100, 1), cancellationToken: TestContext.Current.CancellationToken);
        recorder.Events.Should().Equal(["start", "b1.1", "b1.2", "b1.3", "e1", "b2.1", "b2.2", "b2.3", "e2", "b3.1", "b3.2", "b3.3", "e3", "end"]);
    }

    [Fact]
    public void ValidationSplit_IsHeldOutAndMeasuredEachEpoch()
    {
        var recorder = new Recorder();
        var options = new TrainerOptions { Epochs = 2, BatchSize = 10, ValidationSplit = 0.25, Seed = 3, Callbacks = [recorder] };
        TrainingHistory history = new Trainer(new CrossEntropyCost(), new Sgd(0.3f), options).Fit(Small(1), Synthetic(200, 1), cancellationToken: TestContext.Current.CancellationToken);
        history.Epochs.Should().OnlyContain(e => e.ValidationLoss != null && e.ValidationAccuracy != null);
        recorder.Batches.Count(b => b.Epoch == 1).Should().Be(15); // 150 training samples in batches of 10
    }

    [Fact]
    public void EarlyStopping_StopsWhenValidationLossStopsImproving_AndRestoresTheBestWeights()
    {
        // A wide network on few noisy samples overfits: validation loss turns up after a few epochs.
        var network = Small(2, hidden: 64);
        var early = new EarlyStopping(Metric.ValidationLoss, patience: 2);
        var snapshots = new SnapshotCallback();
        var options = new TrainerOptions { Epochs = 200, BatchSize = 8, ValidationSplit = 0.5, Seed = 1, Callbacks = [snapshots, early] };
        TrainingHistory history = new Trainer(new CrossEntropyCost(), new Sgd(0.5f), options).Fit(network, Synthetic(80, 5, noisyLabels: true), cancellationToken: TestContext.Current.CancellationToken);

        history.Epochs.Count.Should().BeLessThan(200);
        early.StoppedEpoch.Should().Be(history.Epochs.Count);
        early.StoppedEpoch.Should().Be(early.BestEpoch + 3);
        history.StopReason.Should().StartWith("EarlyStopping: ValidationLoss did not improve for 2 epochs");
        history.Epochs.Min(e => e.ValidationLoss!.Value).Should().Be(history.Epochs[early.BestEpoch - 1].ValidationLoss!.Value);
        network.Parameters[0].Values.ToArray().Should().Equal(snapshots.WeightsAfter[early.BestEpoch]);
    }

    [Fact]
    public void EarlyStopping_OnValidationWithoutASplit_SaysWhatIsMissing()
    {
        var options = new TrainerOptions { Callbacks = [new EarlyStopping()] };
        FluentActions.Invoking(() => new Trainer(new CrossEntropyCost(), new Sgd(0.1f), options).Fit(Small(1), Synthetic(20, 1)))
            .Should().Throw<InvalidOperationException>().WithMessage("*no validation split: set TrainerOptions.ValidationSplit*");
    }

    [Fact]
    public void GradientClipping_BoundsTheUpdate()
    {
        var network = Small(1);
        float[] before = network.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        var recorder = new Recorder();
        var options = new TrainerOptions { Epochs = 1, BatchSize = 100, GradientClipNorm = 1e-3f, Callbacks = [recorder] };
        new Trainer(new CrossEntropyCost(), new Sgd(1f), options).Fit(network, Synthetic(100, 1), cancellationToken: TestContext.Current.CancellationToken);
        float[] after = network.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        double step = Math.Sqrt(before.Zip(after, (a, b) => (double)(a - b) * (a - b)).Sum());
        recorder.Batches.Single().GradientNorm.Should().BeGreaterThan(1e-3f);
        step.Should().BeApproximately(1e-3, 1e-5); // η = 1 times the clipped norm
    }

    [Fact]
    public void NonFiniteGradient_ThrowsNamingTheLayer_AndKeepsTheWeights()
    {
        var network = new Network(1, new Dense(4, 4), new PoisonGradient(), new Dense(4, 4), new Softmax());
        float[] before = network.Parameters[0].Values.ToArray();
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { BatchSize = 10 });
        FluentActions.Invoking(() => trainer.Fit(network, Synthetic(30, 1))).Should().Throw<TrainingDivergedException>()
            .Where(e => e.Epoch == 1 && e.Batch == 1 && e.Layer == "layer 0 Dense(4→4)")
            .WithMessage("Training diverged: the gradient of layer 0 Dense(4→4)'s weight is not finite at epoch 1, batch 1 of 3.*");
        network.Parameters[0].Values.ToArray().Should().Equal(before);
    }

    [Fact]
    public void RandomShift_MovesTheImageAndFillsWithZeros()
    {
        var shift = new RandomShift(maxShift: 1, width: 3, height: 3);
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var random = new RandomGenerator(0);
        var seen = new HashSet<string>();
        for (int i = 0; i < 200; i++)
        {
            float[] copy = (float[])image.Clone();
            shift.Apply(copy, random);
            seen.Add(string.Join(",", copy));
        }
        seen.Should().HaveCount(9); // every (dx, dy) in {−1, 0, 1}²
        seen.Should().Contain("0,1,2,0,4,5,0,7,8"); // dx = +1
        seen.Should().Contain("4,5,6,7,8,9,0,0,0"); // dy = −1
        seen.Should().Contain("1,2,3,4,5,6,7,8,9");
    }

    [Fact]
    public void Augmentation_IsAppliedToTrainingBatches_Reproducibly()
    {
        float[] Train(IAugmentation? augmentation)
        {
            var network = new Network(1, new Dense(9, 3), new Softmax());
            var data = Dataset.FromLabels(Rand.Floats(90, 3, 0, 1), 9, Enumerable.Range(0, 10).Select(i => i % 3).ToArray(), 3);
            new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 2, BatchSize = 5, Augmentation = augmentation, Seed = 4 }).Fit(network, data);
            return network.Parameters[0].Values.ToArray();
        }
        float[] plain = Train(null), shifted = Train(new RandomShift(1, 3, 3)), again = Train(new RandomShift(1, 3, 3));
        shifted.Should().NotEqual(plain);
        again.Should().Equal(shifted);
    }

    [Fact]
    public void Evaluate_ReportsTopKPrecisionAndRecall()
    {
        // Identity network on 3 classes: outputs are the inputs.
        var dense = new Dense(3, 3);
        var network = new Network(dense);
        dense.Weights.Values.Clear();
        for (int i = 0; i < 3; i++) dense.Weights.Values[i * 4] = 1f;
        dense.Biases.Values.Clear();
        // Predictions: 0, 1, 1, 0 for labels 0, 1, 2, 2; the label's rank: 1st, 1st, 2nd, 3rd.
        float[] x = [3, 2, 1, /**/ 0, 2, 1, /**/ 0, 2, 1, /**/ 3, 2, 1];
        var data = Dataset.FromLabels(x, 3, [0, 1, 2, 2], 3);
        EvaluationResult r = Evaluator.Evaluate(network, data, new QuadraticCost(), topK: 2);
        r.Accuracy.Should().Be(0.5);
        r.TopKAccuracy.Should().Be(0.75);
        r.Confusion!.Precision(1).Should().Be(0.5);   // predicted 1 twice, once right
        r.Confusion.Recall(2).Should().Be(0);         // class 2 never found
        r.Confusion.Precision(0).Should().Be(0.5);
        r.Confusion.Recall(0).Should().Be(1);
    }

    private sealed class Recorder : ITrainingCallback
    {
        public List<string> Events { get; } = [];
        public List<BatchSummary> Batches { get; } = [];
        public List<EpochSummary> Epochs { get; } = [];

        public void OnTrainingStart(TrainingContext context) => Events.Add("start");

        public void OnBatchEnd(TrainingContext context, BatchSummary batch)
        {
            Events.Add($"b{batch.Epoch}.{batch.Batch}");
            Batches.Add(batch);
        }

        public void OnEpochEnd(TrainingContext context, EpochSummary epoch)
        {
            Events.Add($"e{epoch.Epoch}");
            Epochs.Add(epoch);
        }

        public void OnTrainingEnd(TrainingContext context) => Events.Add("end");
    }

    private sealed class SnapshotCallback : ITrainingCallback
    {
        public Dictionary<int, float[]> WeightsAfter { get; } = [];

        public void OnEpochEnd(TrainingContext context, EpochSummary epoch) => WeightsAfter[epoch.Epoch] = context.Network.Parameters[0].Values.ToArray();
    }

    /// <summary>Identity forward; writes NaN as the input gradient, poisoning the layers before it.</summary>
    private sealed class PoisonGradient : ActivationLayer
    {
        public override string Name => "PoisonGradient";

        protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => input.CopyTo(output);

        protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
            => inputGradient.Fill(float.NaN);
    }
}
