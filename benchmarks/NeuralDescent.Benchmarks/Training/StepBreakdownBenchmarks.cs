using BenchmarkDotNet.Attributes;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>Where the time of one W1 training step (784-128-10 ReLU + softmax, batch 64) goes, piece by piece.</summary>
[MemoryDiagnoser]
public class StepBreakdownBenchmarks
{
    private const int Batch = 64;
    private Network _network = null!;
    private Network.Workspace _ws = null!;
    private Dataset _data = null!;
    private readonly int[] _indices = new int[Batch];
    private readonly CrossEntropyCost _cost = new();
    private readonly Sgd _sgd = new(0.1f);

    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        var random = new NeuralDescent.Randomness.RandomGenerator(3);
        var pixels = new byte[1000 * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)random.NextInt32(256);
        var labels = Enumerable.Range(0, 1000).Select(i => i % 10).ToArray();
        _data = Dataset.FromBytes(pixels, 784, labels, 10);
        _network = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        _ws = _network.WorkspaceFor(Batch);
        for (int i = 0; i < Batch; i++) _indices[i] = (i * 37) % 1000;
        CopyBatch();
        Forward();
    }

    [Benchmark]
    public void CopyBatch() => _data.CopyBatch(_indices, _ws.Inputs.AsSpan(0, Batch * 784), _ws.Targets.AsSpan(0, Batch * 10));

    [Benchmark]
    public void ZeroGradients()
    {
        foreach (Parameter p in _network.Parameters) p.ZeroGradient();
    }

    [Benchmark]
    public void Forward() => _network.ForwardInto(_ws, _ws.Inputs.AsSpan(0, Batch * 784), Batch, training: true);

    [Benchmark]
    public float Loss() => _network.LossOf(_ws, _cost, _ws.Targets.AsSpan(0, Batch * 10), Batch);

    [Benchmark]
    public void Backward() => _network.Backward(_ws, _ws.Inputs.AsSpan(0, Batch * 784), _cost, _ws.Targets.AsSpan(0, Batch * 10), Batch);

    [Benchmark]
    public void SgdStep() => _sgd.Step(_network.Parameters);

    [Benchmark]
    public int CountCorrect() => NeuralDescent.Metrics.Evaluator.CountCorrect(_ws.Activations[^1].AsSpan(0, Batch * 10), 10, _data, _indices);
}
