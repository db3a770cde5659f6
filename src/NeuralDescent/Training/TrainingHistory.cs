namespace NeuralDescent.Training;

/// <summary>The per-epoch record of a training run, returned by <see cref="Trainer.Fit(Network, Data.DataSplit, IProgress{TrainingProgress}?, CancellationToken)"/>.</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochSummary> _epochs = [];

    /// <summary>One summary per completed epoch, in order.</summary>
    public IReadOnlyList<EpochSummary> Epochs => _epochs;

    /// <summary>True when the run stopped early because its cancellation token was signalled; the network holds the weights of the last completed batch.</summary>
    public bool Cancelled { get; internal set; }

    /// <summary>Why a callback (such as <see cref="EarlyStopping"/>) ended the run early, or null.</summary>
    public string? StopReason { get; internal set; }

    /// <summary>The last completed epoch, or null if none completed.</summary>
    public EpochSummary? Last => _epochs.Count == 0 ? null : _epochs[^1];

    internal void Add(EpochSummary summary) => _epochs.Add(summary);
}
