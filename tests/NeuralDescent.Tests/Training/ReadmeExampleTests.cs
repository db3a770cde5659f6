using System.Numerics.Tensors;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;
using NeuralDescent.Serialization;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;
using NeuralDescent.Metrics;

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

        TrainingHistory history = trainer.Fit(network, mnist, cancellationToken: TestContext.Current.CancellationToken);

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

        TrainingHistory history = trainer.Fit(network, mnist, cancellationToken: TestContext.Current.CancellationToken);
        EvaluationResult test = Evaluator.Evaluate(network, mnist.Test, new CrossEntropyCost());

        history.Epochs.Should().HaveCount(3);
        history.Epochs.Should().OnlyContain(e => e.ValidationAccuracy > 0.5);
        test.Accuracy.Should().BeGreaterThan(0.85);
        test.TopKAccuracy.Should().BeGreaterThan(test.Accuracy);
        test.Confusion!.Recall(9).Should().BeInRange(0, 1);
    }

    [Fact]
    public void HandWrittenLoopAndCnnExamples_Run()
    {
        var mnist = new DataSplit(fixture.Data.Training.Slice(0, 3000), fixture.Data.Test.Slice(0, 1000));
        var network = new Network(seed: 1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(learningRate: 0.3f));

        var rng = new RandomGenerator(seed: 1);
        int[] order = Enumerable.Range(0, mnist.Training.Count).ToArray();
        float[] x = new float[64 * 784], t = new float[64 * 10];
        float firstLoss = float.NaN, loss = float.NaN;
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start + 64 <= order.Length; start += 64)
            {
                mnist.Training.CopyBatch(order.AsSpan(start, 64), x, t);
                loss = trainer.ComputeGradients(network, x, t, batchSize: 64);
                if (float.IsNaN(firstLoss)) firstLoss = loss;
                float norm = MathF.Sqrt(network.Parameters.Sum(p => TensorPrimitives.SumOfSquares(p.Gradient)));
                if (norm > 5f) foreach (Parameter p in network.Parameters) TensorPrimitives.Multiply(p.Gradient, 5f / norm, p.Gradient);
                trainer.Optimizer.Step(network.Parameters);
            }
        }
        loss.Should().BeLessThan(firstLoss / 3);
        Evaluator.Evaluate(network, mnist.Test, new CrossEntropyCost()).Accuracy.Should().BeGreaterThan(0.85);

        var cnn = new Network(seed: 1, Shape.Image(1, 28, 28),
            new Conv2D(1, 32, kernelSize: 3, padding: 1), new BatchNorm(32), new ReLU(), new MaxPool2D(2),
            new Conv2D(32, 64, kernelSize: 3, padding: 1), new BatchNorm(64), new ReLU(), new MaxPool2D(2),
            new Flatten(), new Dense(64 * 7 * 7, 128), new ReLU(), new Dropout(0.3f),
            new Dense(128, 10), new Softmax());
        cnn.ShapeBefore(8).Should().Be(Shape.Image(64, 7, 7));
        FluentActions.Invoking(() => new Network(Shape.Image(1, 28, 28), new Conv2D(1, 32, 3), new Dense(784, 128)))
            .Should().Throw<ArgumentException>().WithMessage("Shape mismatch: layer 0 Conv2D(1→32, 3×3) gives 32×26×26, layer 1 Dense(784→128) expects 784 features*");
    }

    [Fact]
    public void SavingAndResumingExample_Runs()
    {
        var mnist = new DataSplit(fixture.Data.Training.Slice(0, 2000), fixture.Data.Test.Slice(0, 500));
        string dir = Directory.CreateTempSubdirectory("nd-readme-").FullName;
        try
        {
            var network = new Network(seed: 1, new Dense(784, 32), new ReLU(), new Dense(32, 10), new Softmax());
            string model = Path.Combine(dir, "mnist.safetensors");
            ModelFile.Save(network, model);
            Network again = ModelFile.Load(model);
            again.ToString().Should().Be(network.ToString());

            var cost = new CrossEntropyCost();
            var options = new TrainerOptions { Epochs = 4, BatchSize = 128, Callbacks = [new ModelCheckpoint(Path.Combine(dir, "epoch-{epoch}.safetensors"))] };
            new Trainer(cost, new Adam(), options).Fit(network, mnist, cancellationToken: TestContext.Current.CancellationToken);
            var resume = options with { ResumeFrom = Checkpoint.Load(Path.Combine(dir, "epoch-2.safetensors")) };
            TrainingHistory rest = new Trainer(cost, new Adam(), resume).Fit(again, mnist, cancellationToken: TestContext.Current.CancellationToken);
            rest.Epochs.Select(e => e.Epoch).Should().Equal(3, 4);
            again.Parameters.SelectMany(p => p.Values.ToArray()).Should().Equal(network.Parameters.SelectMany(p => p.Values.ToArray()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
