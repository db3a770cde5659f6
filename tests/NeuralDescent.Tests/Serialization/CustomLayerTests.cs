using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;
using NeuralDescent.Serialization;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Serialization;

/// <summary>
/// A layer a user might write, defined here and not in the library: y = g ⊙ x with a trainable gain g per feature, and
/// a state tensor that tracks the largest |x| seen in training. It is saved, loaded and checkpointed through what it
/// declares about itself.
/// </summary>
internal sealed class Gain : ILayer
{
    private readonly Parameter _gain;
    private readonly StateTensor _peak = new("peak", 1);

    static Gain() => LayerRegistry.Register("Tests.Gain", spec => new Gain(spec.GetInt("size")));

    public Gain(int size)
    {
        Size = size;
        _gain = new Parameter("gain", size);
    }

    public static void EnsureRegistered() => LayerRegistry.IsRegistered("Tests.Gain").Should().BeTrue();

    public int Size { get; }
    public string Name => $"Gain({Size})";
    public Shape? InputShape => Shape.Features(Size);
    public Shape Connect(Shape input) => input == Shape.Features(Size) ? input : throw new ArgumentException($"{Name} expects {Size} features");
    public IReadOnlyList<Parameter> Parameters => [_gain];
    public IReadOnlyList<StateTensor> State => [_peak];
    public float Peak => _peak.Values[0];
    public void Initialize(RandomGenerator random, ILayer? nextLayer) => _gain.Values.Fill(1f);

    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batchSize, bool training)
    {
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = input[i] * _gain.Values[i % Size];
            if (training) _peak.Values[0] = MathF.Max(_peak.Values[0], MathF.Abs(input[i]));
        }
    }

    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize)
    {
        Span<float> g = _gain.Gradient;
        for (int i = 0; i < input.Length; i++)
        {
            g[i % Size] += outputGradient[i] * input[i];
            if (!inputGradient.IsEmpty) inputGradient[i] = outputGradient[i] * _gain.Values[i % Size];
        }
    }

    public LayerSpec Describe() => new LayerSpec("Tests.Gain").With("size", Size);
}

/// <summary>A user's activation that asks for He initialization of the layer before it, as ReLU does.</summary>
internal sealed class SoftPlus : ActivationLayer
{
    public override string Name => "SoftPlus";
    public override Initializer? PreferredInitializerBefore => Initializer.HeNormal;

    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        for (int i = 0; i < input.Length; i++) output[i] = MathF.Log(1 + MathF.Exp(input[i]));
    }

    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
    {
        for (int i = 0; i < input.Length; i++) inputGradient[i] = outputGradient[i] / (1 + MathF.Exp(-input[i]));
    }
}

public sealed class CustomLayerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-custom-").FullName;

    public CustomLayerTests() => Gain.EnsureRegistered();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dataset Data(int count, ulong seed)
    {
        float[] x = Rand.Floats(count * 16, seed, 0f, 1f);
        int[] labels = Enumerable.Range(0, count).Select(i => (x[i * 16] + x[i * 16 + 5] > 1f ? 1 : 0) + (x[i * 16 + 10] > 0.5f ? 2 : 0)).ToArray();
        return Dataset.FromLabels(x, 16, labels, 4);
    }

    private static Network NewNetwork(int seed) => new(seed, new Dense(16, 12), new Gain(12), new ReLU(), new Dense(12, 4), new Softmax());

    private static int[] Bits(Network n) => n.Parameters.SelectMany(p => p.Values.ToArray()).Concat(n.State.SelectMany(s => s.Values.ToArray())).Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void UserLayer_Trains_SavesLoads_AndResumesBitwise()
    {
        Dataset data = Data(300, 1);
        TrainerOptions Options(IReadOnlyList<ITrainingCallback>? callbacks = null, Checkpoint? resume = null)
            => new() { Epochs = 4, BatchSize = 16, Seed = 2, Callbacks = callbacks ?? [], ResumeFrom = resume };

        var straight = NewNetwork(1);
        TrainingHistory history = new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options()).Fit(straight, data, cancellationToken: TestContext.Current.CancellationToken);
        history.Epochs[^1].TrainingLoss.Should().BeLessThan(history.Epochs[0].TrainingLoss * 0.9f);
        var gain = (Gain)straight.Layers[1];
        gain.Parameters[0].Values.ToArray().Should().NotEqual(Enumerable.Repeat(1f, 12).ToArray(), "the gains were trained");
        gain.Peak.Should().BeGreaterThan(0f, "the state tensor was updated in training");

        string model = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(straight, model);
        Network loaded = ModelFile.Load(model);
        loaded.Layers[1].Should().BeOfType<Gain>();
        Bits(loaded).Should().Equal(Bits(straight));

        string pattern = Path.Combine(_dir, "epoch-{epoch}.safetensors");
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options([new ModelCheckpoint(pattern)])).Fit(NewNetwork(1), data, cancellationToken: TestContext.Current.CancellationToken);
        Checkpoint checkpoint = Checkpoint.Load(Path.Combine(_dir, "epoch-2.safetensors"));
        var resumed = NewNetwork(seed: 99);
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), Options(resume: checkpoint)).Fit(resumed, data, cancellationToken: TestContext.Current.CancellationToken);
        Bits(resumed).Should().Equal(Bits(straight));
    }

    [Fact]
    public void LayerThatDoesNotDescribeItself_CannotBeSaved_AndSaysHowToFixIt()
    {
        var network = new Network(new Dense(4, 3), new SoftPlus(), new Dense(3, 2));
        FluentActions.Invoking(() => ModelFile.Save(network, Path.Combine(_dir, "x.safetensors")))
            .Should().Throw<NotSupportedException>().WithMessage("Layer 1 (SoftPlus, SoftPlus) cannot be saved*Implement ILayer.Describe*LayerRegistry.Register*");
        File.Exists(Path.Combine(_dir, "x.safetensors")).Should().BeFalse();
    }

    [Fact]
    public void UserActivation_PicksTheInitializerOfTheLayerBeforeIt()
    {
        var chosen = new Network(4, new Dense(50, 40), new SoftPlus());
        var explicitHe = new Network(4, new Dense(50, 40, Initializer.HeNormal), new Sigmoid());
        var glorot = new Network(4, new Dense(50, 40), new Sigmoid());
        chosen.Parameters[0].Values.ToArray().Should().Equal(explicitHe.Parameters[0].Values.ToArray());
        chosen.Parameters[0].Values.ToArray().Should().NotEqual(glorot.Parameters[0].Values.ToArray());
    }

    [Fact]
    public void BuiltInTypes_CannotBeRegisteredAgain()
    {
        FluentActions.Invoking(() => LayerRegistry.Register("Dense", _ => new ReLU())).Should().Throw<ArgumentException>().WithMessage("*built-in*");
    }
}
