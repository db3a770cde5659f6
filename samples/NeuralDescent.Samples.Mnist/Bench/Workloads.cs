using NeuralDescent;
using NeuralDescent.Costs;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;

namespace MnistSample.Bench;

/// <summary>
/// The reference training workloads, built only from the public API: three multilayer perceptrons (W1–W3) and the
/// PyTorch-examples MNIST convolutional network (W4). benchmarks/README.md gives their measured speeds.
/// </summary>
/// <param name="Name">W1 … W4.</param>
/// <param name="Description">Architecture and settings in words.</param>
/// <param name="BatchSize">Mini-batch size.</param>
/// <param name="FlopPerSample">FLOP per sample per training step: 3 × the forward multiply-adds × 2 (forward, input gradient, weight gradient).</param>
/// <param name="Build">The layers, and the input shape (null: the first layer's).</param>
/// <param name="Cost">The cost.</param>
/// <param name="Optimizer">The update rule.</param>
public sealed record Workload(string Name, string Description, int BatchSize, long FlopPerSample,
    Func<(Shape? Input, ILayer[] Layers)> Build, Func<ICostFunction> Cost, Func<IOptimizer> Optimizer)
{
    /// <summary>W1: 784-128-10, ReLU, softmax + cross-entropy, SGD η = 0.1, batch 64.</summary>
    public static Workload W1 { get; } = Perceptron("W1", "784-128-10 ReLU, softmax + cross-entropy, SGD η=0.1, batch 64", [784, 128, 10], 64, () => new Sgd(0.1f));

    /// <summary>W2: the tutorial's 784-30-10, sigmoid, quadratic cost, N(0, 1) weights, SGD η = 3.0, batch 10.</summary>
    public static Workload W2 { get; } = new("W2", "784-30-10 sigmoid, quadratic cost, SGD η=3.0, batch 10", 10, 6L * (784 * 30 + 30 * 10),
        () => (null, [new Dense(784, 30, Initializer.StandardNormal), new Sigmoid(), new Dense(30, 10, Initializer.StandardNormal), new Sigmoid()]),
        () => new QuadraticCost(), () => new Sgd(3.0f));

    /// <summary>W3: 784-512-512-10, ReLU, softmax + cross-entropy, Adam η = 1e-3, batch 128.</summary>
    public static Workload W3 { get; } = Perceptron("W3", "784-512-512-10 ReLU, softmax + cross-entropy, Adam η=1e-3, batch 128", [784, 512, 512, 10], 128, () => new Adam(1e-3f));

    /// <summary>
    /// W4: PyTorch's examples/mnist network: conv 1→32 3×3, ReLU, conv 32→64 3×3, ReLU, max-pool 2, dropout 0.25,
    /// flatten, dense 9216→128, ReLU, dropout 0.5, dense 128→10, softmax + cross-entropy; Adam η = 1e-3, batch 64.
    /// </summary>
    public static Workload W4 { get; } = new("W4", "CNN conv32-conv64-pool-9216-128-10, dropout, Adam η=1e-3, batch 64", 64,
        6L * (26 * 26 * 32 * 9 + 24 * 24 * 64 * 32 * 9 + 9216 * 128 + 128 * 10),
        () => (Shape.Image(1, 28, 28),
        [
            new Conv2D(1, 32, 3), new ReLU(), new Conv2D(32, 64, 3), new ReLU(), new MaxPool2D(2), new Dropout(0.25f),
            new Flatten(), new Dense(9216, 128), new ReLU(), new Dropout(0.5f), new Dense(128, 10), new Softmax(),
        ]),
        () => new CrossEntropyCost(), () => new Adam(1e-3f));

    /// <summary>All four.</summary>
    public static IReadOnlyList<Workload> All { get; } = [W1, W2, W3, W4];

    private static Workload Perceptron(string name, string description, int[] sizes, int batchSize, Func<IOptimizer> optimizer)
    {
        ILayer[] Layers() => Enumerable.Range(0, sizes.Length - 1)
            .SelectMany(i => new ILayer[] { new Dense(sizes[i], sizes[i + 1]), i + 2 == sizes.Length ? new Softmax() : new ReLU() }).ToArray();
        long flop = 6L * Enumerable.Range(0, sizes.Length - 1).Sum(i => (long)sizes[i] * sizes[i + 1]);
        return new Workload(name, description, batchSize, flop, () => (null, Layers()), () => new CrossEntropyCost(), optimizer);
    }

    /// <summary>The network, initialized from <paramref name="seed"/>.</summary>
    public Network CreateNetwork(int seed = 1)
    {
        (Shape? input, ILayer[] layers) = Build();
        return input is Shape shape ? new Network(seed, shape, layers) : new Network(seed, layers);
    }

    /// <summary>The trainer: cost, optimizer and batch size of the workload, no evaluation between epochs.</summary>
    public Trainer CreateTrainer(int epochs, int seed = 1)
        => new(Cost(), Optimizer(), new TrainerOptions { Epochs = epochs, BatchSize = BatchSize, Seed = seed, EvaluateEachEpoch = false });
}
