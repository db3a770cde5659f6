namespace NeuralDescent.Training;

/// <summary>
/// Saves a resumable <see cref="Serialization.Checkpoint"/> every <see cref="EveryEpochs"/> epochs (Keras's
/// <c>ModelCheckpoint</c>). A <c>{epoch}</c> in the path is replaced by the epoch number; otherwise the file is
/// replaced atomically each time.
/// </summary>
public sealed class ModelCheckpoint : ITrainingCallback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="path">Where to write, e.g. <c>run/epoch-{epoch}.safetensors</c>.</param>
    /// <param name="everyEpochs">Interval in epochs; default 1.</param>
    public ModelCheckpoint(string path, int everyEpochs = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(everyEpochs);
        Path = path;
        EveryEpochs = everyEpochs;
    }

    /// <summary>The path pattern.</summary>
    public string Path { get; }

    /// <summary>Interval in epochs.</summary>
    public int EveryEpochs { get; }

    /// <inheritdoc />
    public void OnEpochEnd(TrainingContext context, EpochSummary epoch)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Epoch % EveryEpochs != 0) return;
        context.SaveCheckpoint(Path.Replace("{epoch}", epoch.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }
}
