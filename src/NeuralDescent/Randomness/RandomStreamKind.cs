namespace NeuralDescent.Randomness;

/// <summary>
/// The independent random streams derived from one seed (<see cref="RandomGenerator.ForStream"/>), so that,
/// for example, changing how batches are shuffled never changes the initial weights.
/// </summary>
public enum RandomStreamKind
{
    /// <summary>Initial weights and biases.</summary>
    Initialization = 1,

    /// <summary>The order of samples in each epoch.</summary>
    Shuffle = 2,

    /// <summary>Dropout masks and other noise added during training.</summary>
    Dropout = 3,

    /// <summary>Data augmentation and splits taken from a dataset.</summary>
    Data = 4,
}
