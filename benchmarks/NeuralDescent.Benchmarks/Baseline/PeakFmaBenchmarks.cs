using BenchmarkDotNet.Attributes;
using MnistSample.Bench;

namespace NeuralDescent.Benchmarks.Baseline;

/// <summary>
/// The machine's limit, measured in the same run as everything else: 12 independent FMA chains per thread on 1 and 2
/// threads, at every vector width the CPU accelerates (128-bit on ARM64; 256 and 512 on x64). The peak is the fastest
/// width's row; every other GFLOP/s figure is read as a fraction of it.
/// </summary>
[Config(typeof(GflopsConfig))]
public class PeakFmaBenchmarks : IFlopCounted
{
    private const int Blocks = 20_000; // ≈ 1 GFLOP per thread

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    /// <summary>Vector width in bits.</summary>
    [ParamsSource(nameof(Widths))]
    public int Bits { get; set; } = 256;

    public static IEnumerable<int> Widths => MnistSample.Bench.PeakFma.AcceleratedWidths;

    public double FlopPerInvocation(string method) => MnistSample.Bench.PeakFma.FixedFlop(Threads, Blocks, Bits);

    [Benchmark]
    public float Fma() => MnistSample.Bench.PeakFma.RunFixed(Threads, Blocks, Bits);
}
