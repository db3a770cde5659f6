using BenchmarkDotNet.Attributes;
using NeuralDescent.Costs;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;

namespace NeuralDescent.Benchmarks.Training;

/// <summary>
/// One training step (zero gradients, forward, cost, backward, optimizer update) of the reference workloads, on random
/// MNIST-shaped data. An epoch is 60,000 / batch steps: W1 938 steps, W2 6,000 steps, W3 469 steps. Must allocate 0 bytes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class TrainingStepBenchmarks : IFlopCounted
{
    [Params(1, 2)]
    public int Threads { get; set; } = 2;

    /// <summary>The count, 6·Σ(in·out) per sample.</summary>
    public double FlopPerInvocation(string method) => method switch
    {
        nameof(W1Step) => 64 * 6.0 * (784 * 128 + 128 * 10),
        nameof(W2Step) => 10 * 6.0 * (784 * 30 + 30 * 10),
        _ => 128 * 6.0 * (784 * 512 + 512 * 512 + 512 * 10),
    };

    private Network _w1 = null!, _w2 = null!, _w3 = null!;
    private Trainer _t1 = null!, _t2 = null!, _t3 = null!;
    private float[] _x1 = [], _y1 = [], _x2 = [], _y2 = [], _x3 = [], _y3 = [];

    [GlobalSetup]
    public void Setup()
    {
        ComputeOptions.ThreadCount = Threads;
        // W1: 784-128-10 ReLU, softmax + cross-entropy, SGD η = 0.1, batch 64.
        _w1 = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        _t1 = new Trainer(new CrossEntropyCost(), new Sgd(0.1f));
        (_x1, _y1) = Batch(64);
        // W2: the tutorial's 784-30-10 sigmoid network, quadratic cost, SGD η = 3.0, batch 10.
        _w2 = new Network(1, new Dense(784, 30, Initializer.StandardNormal), new Sigmoid(), new Dense(30, 10, Initializer.StandardNormal), new Sigmoid());
        _t2 = new Trainer(new QuadraticCost(), new Sgd(3.0f));
        (_x2, _y2) = Batch(10);
        // W3: 784-512-512-10 ReLU, softmax + cross-entropy, Adam η = 1e-3, batch 128.
        _w3 = new Network(1, new Dense(784, 512), new ReLU(), new Dense(512, 512), new ReLU(), new Dense(512, 10), new Softmax());
        _t3 = new Trainer(new CrossEntropyCost(), new Adam(1e-3f));
        (_x3, _y3) = Batch(128);
    }

    private static (float[] Inputs, float[] Targets) Batch(int size)
    {
        var random = new NeuralDescent.Randomness.RandomGenerator(7);
        float[] x = Enumerable.Range(0, size * 784).Select(_ => random.NextSingle()).ToArray();
        var y = new float[size * 10];
        for (int i = 0; i < size; i++) y[i * 10 + random.NextInt32(10)] = 1f;
        return (x, y);
    }

    /// <summary>W1 step, batch 64.</summary>
    [Benchmark]
    public float W1Step() => _t1.TrainBatch(_w1, _x1, _y1, 64);

    /// <summary>W2 step, batch 10.</summary>
    [Benchmark]
    public float W2Step() => _t2.TrainBatch(_w2, _x2, _y2, 10);

    /// <summary>W3 step, batch 128.</summary>
    [Benchmark]
    public float W3Step() => _t3.TrainBatch(_w3, _x3, _y3, 128);
}
