using BenchmarkDotNet.Attributes;
using NeuralDescent.Layers;

namespace NeuralDescent.Benchmarks.Kernels;

/// <summary>
/// The forward pass of W4's second convolution (32→64 channels, 3 × 3, on 26 × 26, batch 64) by im2col and one matrix
/// product per sample (the baseline) and by Winograd's F(2×2, 3×3), in the same run. GFLOP/s counts the direct
/// algorithm's 2·64·288·576 flops per sample for both, so the column reads as an effective rate.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class ConvolutionBenchmarks : IFlopCounted
{
    private const int Batch = 64;
    private readonly Conv2D _direct = new(32, 64, 3) { ForceIm2Col = true };
    private readonly Conv2D _winograd = new(32, 64, 3);
    private float[] _x = [], _y = [];

    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    public double FlopPerInvocation(string method) => 2.0 * 64 * 288 * 576 * Batch;

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        var input = Shape.Image(32, 26, 26);
        _ = new Network(1, input, _direct);
        _ = new Network(1, input, _winograd);
        _direct.Weights.Values.CopyTo(_winograd.Weights.Values);
        var random = new NeuralDescent.Randomness.RandomGenerator(42);
        _x = Enumerable.Range(0, Batch * input.Size).Select(_ => random.NextSingle()).ToArray();
        _y = new float[Batch * 64 * 24 * 24];
    }

    /// <summary>im2col, then Y = W·X̃ + b per sample.</summary>
    [Benchmark(Baseline = true)]
    public void Im2Col() => _direct.Forward(_x, _y, Batch, training: true);

    /// <summary>Input transform, 16 products U[ξ]·V[ξ], output transform.</summary>
    [Benchmark]
    public void Winograd() => _winograd.Forward(_x, _y, Batch, training: true);
}
