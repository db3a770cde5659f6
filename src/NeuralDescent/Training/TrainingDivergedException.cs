namespace NeuralDescent.Training;

/// <summary>
/// Training produced a NaN or infinite loss or gradient. It is thrown before the optimizer step of the offending batch,
/// so the network keeps the weights of the last good step.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and what to try.</param>
    /// <param name="epoch">1-based epoch.</param>
    /// <param name="batch">1-based batch within the epoch.</param>
    /// <param name="layer">The layer whose gradient was not finite, or null when the loss itself was not.</param>
    public TrainingDivergedException(string message, int epoch, int batch, string? layer) : base(message)
    {
        Epoch = epoch;
        Batch = batch;
        Layer = layer;
    }

    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException() : this("Training diverged.", 0, 0, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public TrainingDivergedException(string message) : this(message, 0, 0, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public TrainingDivergedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>1-based epoch of the failing batch.</summary>
    public int Epoch { get; }

    /// <summary>1-based batch number within the epoch.</summary>
    public int Batch { get; }

    /// <summary>The layer (e.g. <c>layer 2 Dense(128→10)</c>) whose gradient was not finite, or null when the loss was not.</summary>
    public string? Layer { get; }
}
