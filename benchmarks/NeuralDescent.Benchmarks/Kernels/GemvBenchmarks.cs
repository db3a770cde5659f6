using BenchmarkDotNet.Attributes;
using NeuralDescent.Kernels;
using NeuralDescent.Layers;

namespace NeuralDescent.Benchmarks.Kernels;

/// <summary>
/// The single-sample path of a dense layer (I1's 128×784 first layer): W·x + b with W as a <see cref="Parameter"/> holds
/// it (starting on a cache line) against the same W at a 16-byte offset, where every other 512-bit load of a row
/// straddles two lines (a W this small stays on the calling thread). GFLOP/s = 2·n·k / time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemvBenchmarks : IFlopCounted
{
    private const int N = 128, K = 784;
    private readonly Parameter _weights = new("weight", N, K);
    private float[] _offsetWeights = [], _x = [], _bias = [], _y = [];
    private int _offset;

    public double FlopPerInvocation(string method) => 2.0 * N * K;

    [GlobalSetup]
    public void Setup()
    {
        var random = new NeuralDescent.Randomness.RandomGenerator(42);
        Span<float> w = _weights.Values;
        for (int i = 0; i < w.Length; i++) w[i] = random.NextSingle() - 0.5f;
        _offsetWeights = GC.AllocateArray<float>(N * K + 16, pinned: true);
        unsafe
        {
            fixed (float* start = _offsetWeights)
            {
                // Four floats past a cache line.
                int offset = (int)((16 - (nuint)start / sizeof(float) % 16) % 16) + 4;
                w.CopyTo(_offsetWeights.AsSpan(offset, N * K));
                _offset = offset;
            }
        }
        _x = Enumerable.Range(0, K).Select(_ => random.NextSingle()).ToArray();
        _bias = new float[N];
        _y = new float[N];
    }

    /// <summary>W starting on a cache line, as a Dense layer holds it.</summary>
    [Benchmark(Baseline = true)]
    public void Aligned() => MatrixKernels.Gemv(N, K, _weights.Values, _x, _bias, _y);

    /// <summary>The same W sixteen bytes past a cache line.</summary>
    [Benchmark]
    public void Misaligned() => MatrixKernels.Gemv(N, K, _offsetWeights.AsSpan(_offset, N * K), _x, _bias, _y);
}
