using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;
using NeuralDescent.Optimizers;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Layers;

/// <summary>One network shared by many threads, as a web application's singleton model is.</summary>
public class ConcurrencyTests
{
    public static TheoryData<string> Networks() => new() { "mlp", "cnn" };

    private static Network Create(string name) => name == "mlp"
        ? new Network(3, new Dense(36, 20), new ReLU(), new Dropout(0.3f), new Dense(20, 10), new Softmax())
        : new Network(3, Shape.Image(1, 6, 6), new Conv2D(1, 4, 3, padding: 1), new BatchNorm(4), new ReLU(), new MaxPool2D(2),
            new Flatten(), new Dense(36, 10), new Softmax());

    [Theory]
    [MemberData(nameof(Networks))]
    public void Inference_From8ThreadsAtOnce_GivesBitwiseTheSerialResults(string name)
    {
        Network network = Create(name);
        const int samples = 40;
        float[] x = Rand.Floats(samples * 36, 5, 0f, 1f);
        var data = Dataset.FromLabels(x, 36, Enumerable.Range(0, samples).Select(i => i % 10).ToArray(), 10);
        // Train a little so batch normalization's running statistics are not the defaults.
        new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 2, BatchSize = 8 }).Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);

        float[] serialBatch = new float[samples * 10];
        network.PredictBatch(x, serialBatch, samples);
        float[][] serialSingle = Enumerable.Range(0, samples).Select(i => network.Predict(x.AsSpan(i * 36, 36))).ToArray();
        int[] serialClasses = Enumerable.Range(0, samples).Select(i => network.Classify(x.AsSpan(i * 36, 36))).ToArray();
        EvaluationResult serialEvaluation = Evaluator.Evaluate(network, data, new CrossEntropyCost(), batchSize: 16);

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var start = new Barrier(8);
        Thread[] threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var batch = new float[samples * 10];
            var single = new float[10];
            for (int round = 0; round < 200; round++)
            {
                int i = (round * 7 + t) % samples;
                switch ((round + t) % 4)
                {
                    case 0:
                        network.PredictBatch(x, batch, samples);
                        if (!batch.AsSpan().SequenceEqual(serialBatch)) failures.Add($"thread {t} PredictBatch round {round}");
                        break;
                    case 1:
                        network.Predict(x.AsSpan(i * 36, 36), single);
                        if (!single.AsSpan().SequenceEqual(serialSingle[i])) failures.Add($"thread {t} Predict {i}");
                        break;
                    case 2:
                        if (network.Classify(x.AsSpan(i * 36, 36)) != serialClasses[i]) failures.Add($"thread {t} Classify {i}");
                        break;
                    default:
                        EvaluationResult r = Evaluator.Evaluate(network, data, new CrossEntropyCost(), batchSize: 16);
                        if (r.Loss != serialEvaluation.Loss || r.Correct != serialEvaluation.Correct) failures.Add($"thread {t} Evaluate");
                        break;
                }
            }
        })).ToArray();
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) thread.Join();
        failures.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Predict_AndPredictBatch_AgreeWithin1e5_AndPickTheSameClasses(string name)
    {
        // One sample goes through matrix-vector kernels, a batch through blocked GEMMs: the sums are taken in another
        // order, so the last bits may differ (README, "Thread safety and determinism").
        Network network = Create(name);
        const int samples = 300;
        float[] x = Rand.Floats(samples * 36, 8, 0f, 1f);
        var batch = new float[samples * 10];
        network.PredictBatch(x, batch, samples);
        for (int i = 0; i < samples; i++)
        {
            float[] one = network.Predict(x.AsSpan(i * 36, 36));
            for (int j = 0; j < 10; j++) one[j].Should().BeApproximately(batch[i * 10 + j], 1e-5f);
            network.Classify(x.AsSpan(i * 36, 36)).Should().Be(Array.IndexOf(one, one.Max()));
        }
    }

    [Fact]
    public void PredictingWhileAnotherThreadTrains_IsRefused()
    {
        Network network = Create("mlp");
        var data = Dataset.FromLabels(Rand.Floats(64 * 36, 6, 0f, 1f), 36, Enumerable.Range(0, 64).Select(i => i % 10).ToArray(), 10);
        using var training = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var callback = new BlockingCallback(training, release);
        var trainer = new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 1, BatchSize = 8, Callbacks = [callback] });
        var thread = new Thread(() => trainer.Fit(network, data));
        thread.Start();
        training.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken).Should().BeTrue();
        try
        {
            FluentActions.Invoking(() => network.Predict(new float[36])).Should().Throw<InvalidOperationException>().WithMessage("*being trained on another thread*");
            FluentActions.Invoking(() => trainer.TrainBatch(network, new float[36], new float[10], 1)).Should().Throw<InvalidOperationException>().WithMessage("*already being trained*");
        }
        finally
        {
            release.Set();
            thread.Join();
        }
        network.Predict(new float[36]).Should().HaveCount(10, "training has ended");
    }

    private sealed class BlockingCallback(ManualResetEventSlim training, ManualResetEventSlim release) : ITrainingCallback
    {
        public void OnBatchEnd(TrainingContext context, BatchSummary batch)
        {
            training.Set();
            release.Wait();
        }
    }
}
