using NeuralDescent.Data;

namespace NeuralDescent.Training;

/// <summary>Settings of a training run. Every default is stated; all are checked by <see cref="Trainer"/>'s constructor.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training set; default 1.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per mini-batch, m; default 32. The last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Seed of the shuffle, dropout and data streams; the same seed, network and data give bitwise-equal weights. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Whether to visit the training samples in a fresh random order each epoch; default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Whether to evaluate the test set (if one is given) after every epoch; default true.</summary>
    public bool EvaluateEachEpoch { get; init; } = true;

    /// <summary>
    /// Fraction of the training set held out (chosen by the data stream of <see cref="Seed"/>) and measured after every
    /// epoch as validation loss and accuracy; default 0 (none). Must be in [0, 1).
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>η schedule applied on top of the optimizer's learning rate; null for a constant rate.</summary>
    public LearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>If set, gradients are rescaled before each step so their global norm ‖g‖₂ over all parameters is at most this value (g ← g·c/‖g‖ when ‖g‖ &gt; c); default null (off).</summary>
    public float? GradientClipNorm { get; init; }

    /// <summary>A random transformation applied to every training sample of every batch (e.g. <see cref="RandomShift"/>); default null.</summary>
    public IAugmentation? Augmentation { get; init; }

    /// <summary>A layer whose epoch-mean gradient RMS (‖g‖/√n) falls below this raises a <see cref="TrainingWarningKind.VanishingGradient"/> warning; default 1e-7.</summary>
    public double VanishingGradientRms { get; init; } = 1e-7;

    /// <summary>A layer whose epoch-mean gradient RMS exceeds this raises a <see cref="TrainingWarningKind.ExplodingGradient"/> warning; default 10.</summary>
    public double ExplodingGradientRms { get; init; } = 10;

    /// <summary>
    /// Continue the run saved in this checkpoint: the network's weights, the optimizer's state, the schedule position,
    /// the sample order and the random streams are restored, and training goes on from the checkpoint's epoch + 1 up to
    /// <see cref="Epochs"/>. Use the same data, seed, options and optimizer type as the original run. Default null.
    /// </summary>
    public Serialization.Checkpoint? ResumeFrom { get; init; }

    /// <summary>Callbacks called at training start, batch ends, epoch ends and training end, in order; default none.</summary>
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = [];
}
