using NeuralDescent;
using NeuralDescent.Costs;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;

namespace MnistSample.Bench;

/// <summary>The reference training workloads of the performance issue, built only from the public API.</summary>
/// <param name="Name">W1, W2 or W3.</param>
/// <param name="Description">Architecture and settings in words.</param>
/// <param name="Sizes">Layer widths, input first.</param>
/// <param name="BatchSize">Mini-batch size.</param>
public sealed record Workload(string Name, string Description, int[] Sizes, int BatchSize)
{
    /// <summary>W1: 784-128-10, ReLU, softmax + cross-entropy, SGD η = 0.1, batch 64.</summary>
    public static Workload W1 { get; } = new("W1", "784-128-10 ReLU, softmax + cross-entropy, SGD η=0.1, batch 64", [784, 128, 10], 64);

    /// <summary>W2: the tutorial's 784-30-10, sigmoid, quadratic cost, SGD η = 3.0, batch 10.</summary>
    public static Workload W2 { get; } = new("W2", "784-30-10 sigmoid, quadratic cost, SGD η=3.0, batch 10", [784, 30, 10], 10);

    /// <summary>W3: 784-512-512-10, ReLU, softmax + cross-entropy, Adam η = 1e-3, batch 128.</summary>
    public static Workload W3 { get; } = new("W3", "784-512-512-10 ReLU, softmax + cross-entropy, Adam η=1e-3, batch 128", [784, 512, 512, 10], 128);

    /// <summary>All three.</summary>
    public static IReadOnlyList<Workload> All { get; } = [W1, W2, W3];

    /// <summary>FLOP per sample per training step as the performance issue counts them: 6·Σ(in·out).</summary>
    public long FlopPerSample => 6L * Enumerable.Range(0, Sizes.Length - 1).Sum(i => (long)Sizes[i] * Sizes[i + 1]);

    /// <summary>The network, initialized from <paramref name="seed"/>.</summary>
    public Network CreateNetwork(int seed = 1)
    {
        var layers = new List<ILayer>();
        for (int i = 0; i + 1 < Sizes.Length; i++)
        {
            bool last = i + 2 == Sizes.Length;
            if (Name == "W2")
            {
                layers.Add(new Dense(Sizes[i], Sizes[i + 1], Initializer.StandardNormal));
                layers.Add(new Sigmoid());
            }
            else
            {
                layers.Add(new Dense(Sizes[i], Sizes[i + 1]));
                layers.Add(last ? new Softmax() : new ReLU());
            }
        }
        return new Network(seed, [.. layers]);
    }

    /// <summary>The trainer: cost, optimizer and batch size of the workload, no evaluation between epochs.</summary>
    public Trainer CreateTrainer(int epochs, int seed = 1)
    {
        ICostFunction cost = Name == "W2" ? new QuadraticCost() : new CrossEntropyCost();
        IOptimizer optimizer = Name switch
        {
            "W1" => new Sgd(0.1f),
            "W2" => new Sgd(3.0f),
            _ => new Adam(1e-3f),
        };
        return new Trainer(cost, optimizer, new TrainerOptions { Epochs = epochs, BatchSize = BatchSize, Seed = seed, EvaluateEachEpoch = false });
    }
}
