namespace NeuralDescent.Training;

/// <summary>Settings of a training run. Every default is stated; all are checked by <see cref="Trainer"/>'s constructor.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set; default 1.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per mini-batch, m; default 32. The last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seed of the shuffle (and dropout) streams; the same seed, network and data give bitwise-equal weights. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Whether to visit the training samples in a fresh random order each epoch; default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Whether to evaluate the test set (if one is given) after every epoch; default true.</summary>
    public bool EvaluateEachEpoch { get; init; } = true;
}
