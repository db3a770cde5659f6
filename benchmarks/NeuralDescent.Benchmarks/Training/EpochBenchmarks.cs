using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using MnistSample.Bench;
using NeuralDescent.Data;
using NeuralDescent.Training;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>
/// One epoch of W1–W4 on the real MNIST training set (60,000 images, in memory), through the public API:
/// <c>Trainer.Fit</c> with no evaluation. GFLOP/s counts 3 × the forward multiply-adds × 2 FLOP per sample (6·Σ(in·out) for a perceptron).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[Config(typeof(GflopsConfig))]
public class EpochBenchmarks : IFlopCounted
{
    private DataSplit _mnist = null!;
    private Network _network = null!;
    private Trainer _trainer = null!;
    private MnistSample.Bench.Workload _workload = MnistSample.Bench.Workload.W1;

    [Params("W1", "W2", "W3", "W4")]
    public string Workload { get; set; } = "W1";

    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    public double FlopPerInvocation(string method) =>
        MnistSample.Bench.Workload.All.Single(w => w.Name == Workload).FlopPerSample * 60_000.0;

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        _mnist = Mnist.Load(MnistSample.DataLocator.FindMnist() ?? throw new DirectoryNotFoundException("data/mnist not found"));
        _workload = MnistSample.Bench.Workload.All.Single(w => w.Name == Workload);
        _network = _workload.CreateNetwork();
        _trainer = _workload.CreateTrainer(epochs: 1);
    }

    [Benchmark]
    public TrainingHistory Epoch() => _trainer.Fit(_network, _mnist.Training);
}
