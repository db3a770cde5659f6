using BenchmarkDotNet.Attributes;
using NeuralDescent.Kernels;

namespace NeuralDescent.Benchmarks.Kernels;

/// <summary>
/// The three GEMM layouts a dense layer needs, on the shapes of the reference workloads, against the scalar reference.
/// Shape m×n×k: W1 forward (64×128×784), W2 forward (10×30×784), W3 hidden (128×512×512), and an awkward one (33×785×257).
/// GFLOP/s = 2·m·n·k / time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks : IFlopCounted
{
    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;

    [Params("64x128x784", "128x784x64", "10x30x784", "128x512x512", "128x10x512", "33x785x257")]
    public string Shape { get; set; } = "64x128x784";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    public double FlopPerInvocation(string method)
    {
        int[] dims = Shape.Split('x').Select(int.Parse).ToArray();
        return 2.0 * dims[0] * dims[1] * dims[2];
    }

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        int[] dims = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        var random = new NeuralDescent.Randomness.RandomGenerator(42);
        _a = Enumerable.Range(0, _m * _k).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _c = new float[_m * _n];
    }

    /// <summary>The scalar reference twin, forward layout (X·Wᵀ).</summary>
    [Benchmark(Baseline = true)]
    public void ReferenceABt() => MatrixKernels.GemmReference(false, true, _m, _n, _k, _a, _k, _b, _k, _c, _n, false);

    /// <summary>Forward: X·Wᵀ.</summary>
    [Benchmark]
    public void ABt() => MatrixKernels.Gemm(false, true, _m, _n, _k, _a, _k, _b, _k, _c, _n, false);

    /// <summary>Input gradient: G·W.</summary>
    [Benchmark]
    public void AB() => MatrixKernels.Gemm(false, false, _m, _n, _k, _a, _k, _b, _n, _c, _n, false);

    /// <summary>Weight gradient: Gᵀ·X (A stored k×m).</summary>
    [Benchmark]
    public void AtB() => MatrixKernels.Gemm(true, false, _m, _n, _k, _a, _m, _b, _n, _c, _n, true);
}
