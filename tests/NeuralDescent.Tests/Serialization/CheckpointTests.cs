using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Serialization;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Serialization;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dataset Images(int count, ulong seed)
    {
        float[] x = Rand.Floats(count * 16, seed, 0f, 1f);
        int[] labels = Enumerable.Range(0, count).Select(i => (x[i * 16] + x[i * 16 + 5] > 1f ? 1 : 0) + (x[i * 16 + 10] > 0.5f ? 2 : 0)).ToArray();
        return Dataset.FromLabels(x, 16, labels, 4);
    }

    private static Network NewNetwork(int seed) => new(seed, new Dense(16, 12), new ReLU(), new Dropout(0.2f), new Dense(12, 4), new Softmax());

    private static TrainerOptions Options(IReadOnlyList<ITrainingCallback>? callbacks = null, Checkpoint? resume = null) => new()
    {
        Epochs = 4,
        BatchSize = 16,
        Seed = 9,
        ValidationSplit = 0.2,
        Augmentation = new RandomShift(1, 4, 4),
        LearningRateSchedule = LearningRateSchedule.Cosine(4).WithLinearWarmup(0.5),
        Callbacks = callbacks ?? [],
        ResumeFrom = resume,
    };

    [Fact]
    public void ResumingAfterEpoch2_GivesBitwiseTheWeightsOf4UninterruptedEpochs()
    {
        Dataset data = Images(300, 1);

        var straight = NewNetwork(1);
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options()).Fit(straight, data, cancellationToken: TestContext.Current.CancellationToken);

        string pattern = Path.Combine(_dir, "epoch-{epoch}.safetensors");
        var interrupted = NewNetwork(1);
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options([new ModelCheckpoint(pattern)])).Fit(interrupted, data, cancellationToken: TestContext.Current.CancellationToken);
        File.Exists(Path.Combine(_dir, "epoch-2.safetensors")).Should().BeTrue();

        Checkpoint checkpoint = Checkpoint.Load(Path.Combine(_dir, "epoch-2.safetensors"));
        checkpoint.Epoch.Should().Be(2);
        checkpoint.Optimizer.Should().Be("Adam");
        var resumed = NewNetwork(seed: 123); // different initial weights: the checkpoint's replace them
        TrainingHistory history = new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options(resume: checkpoint)).Fit(resumed, data, cancellationToken: TestContext.Current.CancellationToken);

        history.Epochs.Select(e => e.Epoch).Should().Equal(3, 4);
        float[] expected = straight.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        float[] actual = resumed.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        actual.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Resume_WithAnotherOptimizerOrArchitecture_SaysWhatDiffers()
    {
        Dataset data = Images(100, 2);
        string path = Path.Combine(_dir, "c.safetensors");
        var network = NewNetwork(1);
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options([new ModelCheckpoint(path, everyEpochs: 2)])).Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);
        Checkpoint checkpoint = Checkpoint.Load(path);
        checkpoint.Epoch.Should().Be(4);

        FluentActions.Invoking(() => new Trainer(new CrossEntropyCost(), new Sgd(0.1f), Options(resume: checkpoint)).Fit(NewNetwork(1), data))
            .Should().Throw<ArgumentException>().WithMessage("The checkpoint was taken with Adam; resume it with the same optimizer type, not Sgd.*");
        var other = new Network(1, new Dense(16, 8), new ReLU(), new Dense(8, 4), new Softmax());
        FluentActions.Invoking(() => new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options(resume: checkpoint)).Fit(other, data))
            .Should().Throw<ArgumentException>().WithMessage("The checkpoint's architecture*differs from the network's*");
    }

    [Fact]
    public void Checkpoint_IsAlsoALoadableModel()
    {
        Dataset data = Images(100, 3);
        string path = Path.Combine(_dir, "m.safetensors");
        var network = NewNetwork(1);
        new Trainer(new CrossEntropyCost(), new Momentum(0.05f), Options([new ModelCheckpoint(path)])).Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);
        Network loaded = ModelFile.Load(path);
        float[] x = Rand.Floats(16, 4, 0f, 1f);
        loaded.Predict(x).Should().Equal(network.Predict(x));
    }

    /// <summary>A copy of a checkpoint with one metadata field or tensor changed, as a damaged or forged file would have it.</summary>
    private string Altered(string source, string name, Action<List<Tensor>, Dictionary<string, string>> change)
    {
        (List<Tensor> tensors, Dictionary<string, string> metadata) = SafeTensors.Read(source);
        change(tensors, metadata);
        string path = Path.Combine(_dir, name);
        using (var file = File.Create(path)) SafeTensors.Write(file, tensors, metadata);
        return path;
    }

    [Fact]
    public void Load_ValidatesEveryValueThatResumingUses()
    {
        Dataset data = Images(120, 5);
        string good = Path.Combine(_dir, "good.safetensors");
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options([new ModelCheckpoint(good, everyEpochs: 2)]) with { Epochs = 2 }).Fit(NewNetwork(1), data, cancellationToken: TestContext.Current.CancellationToken);
        const string p = "neuraldescent.checkpoint.";
        var cases = new (string Name, Action<List<Tensor>, Dictionary<string, string>> Change, string Message)[]
        {
            ("epoch-huge", (_, m) => m[p + "epoch"] = "2147483648", "*'epoch' = '2147483648' is not a whole number in [0, 2147483646]*"),
            ("epoch-negative", (_, m) => m[p + "epoch"] = "-1", "*'epoch' = '-1' is not a whole number*"),
            ("step-negative", (_, m) => m[p + "step"] = "-5", "*'step' = '-5'*"),
            ("state-names-short", (_, m) => m[p + "state_names"] = "exp_avg", "*Adam keeps state [exp_avg, exp_avg_sq] but the checkpoint names [exp_avg]*"),
            ("state-names-repeated", (_, m) => m[p + "state_names"] = "exp_avg,exp_avg", "*are empty or repeated*"),
            ("rate-infinite", (_, m) => m[p + "base_learning_rate"] = "Infinity", "*'base_learning_rate' is not finite*"),
            ("order-duplicate", (t, _) => { Tensor o = t.Single(x => x.Name == "trainer.order"); o.Data[1] = o.Data[0]; }, "*names sample * twice*permutation*"),
            ("state-stray", (t, _) => t.Add(new Tensor("optimizer.99.exp_avg", [1], [0f])), "*tensor 'optimizer.99.exp_avg' belongs to no parameter*"),
            ("state-nan", (t, _) => t.First(x => x.Name.StartsWith("optimizer.", StringComparison.Ordinal)).Data[0] = float.NaN, "*holds a value that is not finite*"),
        };
        foreach ((string name, var change, string message) in cases)
        {
            string path = Altered(good, name, change);
            FluentActions.Invoking(() => Checkpoint.Load(path)).Should().Throw<InvalidDataException>(name).WithMessage(message);
        }

        // An order that is a permutation, but of other samples than this run's, is refused when resuming.
        string shifted = Altered(good, "order-past-end", (t, _) => t.Single(x => x.Name == "trainer.order").Data[0] = 119_000);
        Checkpoint checkpoint = Checkpoint.Load(shifted);
        FluentActions.Invoking(() => new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options(resume: checkpoint)).Fit(NewNetwork(1), data))
            .Should().Throw<ArgumentException>().WithMessage("The checkpoint's sample order (96 samples) is not a permutation of this run's 96 training samples*");
    }
}
