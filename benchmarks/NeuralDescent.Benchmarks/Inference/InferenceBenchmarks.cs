using BenchmarkDotNet.Attributes;
using MnistSample.Bench;

namespace NeuralDescent.Benchmarks.Inference;

/// <summary>
/// I1: one <c>Predict</c> of a single 784-pixel image through the W1 network (784-128-10); I2: <c>PredictBatch</c> of
/// 10,000 images. Weight values do not affect speed, so the network is freshly initialized.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class InferenceBenchmarks : IFlopCounted
{
    private const int Images = 10_000;
    private Network _network = null!;
    private float[] _inputs = [], _outputs = [], _single = new float[10];

    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    public double FlopPerInvocation(string method) => (method == nameof(I1_PredictOne) ? 1 : Images) * 2.0 * (784 * 128 + 128 * 10);

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        _network = Workload.W1.CreateNetwork();
        var random = new NeuralDescent.Randomness.RandomGenerator(5);
        _inputs = Enumerable.Range(0, Images * 784).Select(_ => random.NextSingle()).ToArray();
        _outputs = new float[Images * 10];
        _network.PredictBatch(_inputs, _outputs, Images); // build the batch workspace once
    }

    [Benchmark]
    public float I1_PredictOne()
    {
        _network.Predict(_inputs.AsSpan(0, 784), _single);
        return _single[0];
    }

    [Benchmark]
    public float I2_PredictAll()
    {
        _network.PredictBatch(_inputs, _outputs, Images);
        return _outputs[0];
    }
}
