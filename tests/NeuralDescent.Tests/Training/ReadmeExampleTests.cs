using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Training;

/// <summary>The README's C# examples, compiled and run (on a slice of MNIST, for a few epochs) so they cannot go stale.</summary>
[Collection(MnistCollection.Name)]
public class ReadmeExampleTests(MnistFixture fixture)
{
    [Fact]
    public void QuickExample_Runs()
    {
        var mnist = new DataSplit(fixture.Data.Training.Slice(0, 6000), fixture.Data.Test.Slice(0, 2000));

        var network = new Network(seed: 1,
            new Dense(784, 128), new ReLU(),
            new Dense(128, 10), new Softmax());

        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(learningRate: 0.3f),
            new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1 });

        TrainingHistory history = trainer.Fit(network, mnist);

        float[] pixels = new float[784];
        mnist.Test.CopyInput(0, pixels);
        int digit = network.Classify(pixels);

        history.Epochs.Should().HaveCount(2);
        history.Last!.TestAccuracy.Should().BeGreaterThan(0.85);
        digit.Should().Be(7);
    }

    [Fact]
    public void FastRecipeExample_Runs()
    {
        var mnist = new DataSplit(fixture.Data.Training.Slice(0, 6000), fixture.Data.Test.Slice(0, 2000));

        var network = new Network(seed: 1,
            new Dense(784, 512), new ReLU(), new Dropout(0.2f),
            new Dense(512, 512), new ReLU(), new Dropout(0.2f),
            new Dense(512, 10), new Softmax());

        var trainer = new Trainer(new CrossEntropyCost(), new Momentum(0.05f, momentum: 0.9f, nesterov: true),
            new TrainerOptions
            {
                Epochs = 3, BatchSize = 128, Seed = 1,
                Augmentation = new RandomShift(maxShift: 1),
                LearningRateSchedule = LearningRateSchedule.Cosine(totalEpochs: 2).WithLinearWarmup(warmupEpochs: 1),
                ValidationSplit = 0.1,
                Callbacks = [new EarlyStopping(Metric.ValidationLoss, patience: 4)],
            });

        TrainingHistory history = trainer.Fit(network, mnist);
        EvaluationResult test = network.Evaluate(mnist.Test, new CrossEntropyCost());

        history.Epochs.Should().HaveCount(3);
        history.Epochs.Should().OnlyContain(e => e.ValidationAccuracy > 0.5);
        test.Accuracy.Should().BeGreaterThan(0.85);
        test.TopKAccuracy.Should().BeGreaterThan(test.Accuracy);
        test.Confusion!.Recall(9).Should().BeInRange(0, 1);
    }
}
