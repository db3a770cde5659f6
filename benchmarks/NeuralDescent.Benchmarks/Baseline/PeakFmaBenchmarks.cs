using BenchmarkDotNet.Attributes;
using MnistSample.Bench;

namespace NeuralDescent.Benchmarks.Baseline;

/// <summary>
/// The machine's limit, measured in the same run as everything else: 12 independent Vector256 FMA chains per thread
/// on 1 and 2 threads. Every other GFLOP/s figure is read as a fraction of this one.
/// </summary>
[Config(typeof(Config))]
public class PeakFmaBenchmarks : IFlopCounted
{
    private const int Blocks = 20_000; // ≈ 1 GFLOP per thread

    private sealed class Config : BenchmarkDotNet.Configs.ManualConfig
    {
        public Config() => AddColumn(new GflopsColumn());
    }

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    public double FlopPerInvocation(string method) => MnistSample.Bench.PeakFma.FixedFlop(Threads, Blocks);

    [Benchmark]
    public float Fma() => MnistSample.Bench.PeakFma.RunFixed(Threads, Blocks);
}
