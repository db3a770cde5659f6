namespace NeuralDescent.Training;

/// <summary>The per-epoch metrics a callback can monitor.</summary>
public enum Metric
{
    /// <summary>Mean training loss of the epoch (lower is better).</summary>
    TrainingLoss,

    /// <summary>Training accuracy of the epoch (higher is better).</summary>
    TrainingAccuracy,

    /// <summary>Loss on the validation split (lower is better).</summary>
    ValidationLoss,

    /// <summary>Accuracy on the validation split (higher is better).</summary>
    ValidationAccuracy,
}

/// <summary>
/// Stops training when a monitored metric has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, and (by default) puts back the weights of the best epoch (Keras's <c>EarlyStopping</c>).
/// </summary>
/// <remarks>Improvement means lower for losses and higher for accuracies. The best weights are kept as a copy of every parameter, taken at each new best.</remarks>
public sealed class EarlyStopping : ITrainingCallback
{
    private float[][]? _best;
    private double _bestValue;
    private int _wait;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The metric; default the validation loss (needs <see cref="TrainerOptions.ValidationSplit"/> &gt; 0).</param>
    /// <param name="patience">Epochs without improvement before stopping; default 5.</param>
    /// <param name="minDelta">The smallest change that counts as an improvement; default 0.</param>
    /// <param name="restoreBestWeights">Whether to put back the best epoch's weights at the end; default true.</param>
    public EarlyStopping(Metric monitor = Metric.ValidationLoss, int patience = 5, double minDelta = 0, bool restoreBestWeights = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        if (!double.IsFinite(minDelta) || minDelta < 0) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be a finite value ≥ 0.");
        Monitor = monitor;
        Patience = patience;
        MinDelta = minDelta;
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>The monitored metric.</summary>
    public Metric Monitor { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>The smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Whether the best epoch's weights are restored at the end.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>The epoch with the best metric so far (0 before the first epoch).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The epoch at which training was stopped, or 0 if it ran to the end.</summary>
    public int StoppedEpoch { get; private set; }

    /// <inheritdoc />
    public void OnTrainingStart(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Monitor is Metric.ValidationLoss or Metric.ValidationAccuracy && !context.HasValidation)
            throw new InvalidOperationException($"EarlyStopping monitors {Monitor}, but there is no validation split: set TrainerOptions.ValidationSplit (e.g. 0.1).");
        _best = null;
        _wait = 0;
        BestEpoch = 0;
        StoppedEpoch = 0;
        _bestValue = LowerIsBetter ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <inheritdoc />
    public void OnEpochEnd(TrainingContext context, EpochSummary epoch)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(epoch);
        double value = Monitor switch
        {
            Metric.TrainingLoss => epoch.TrainingLoss,
            Metric.TrainingAccuracy => epoch.TrainingAccuracy,
            Metric.ValidationLoss => epoch.ValidationLoss ?? double.NaN,
            _ => epoch.ValidationAccuracy ?? double.NaN,
        };
        bool improved = LowerIsBetter ? value < _bestValue - MinDelta : value > _bestValue + MinDelta;
        if (improved)
        {
            _bestValue = value;
            BestEpoch = epoch.Epoch;
            _wait = 0;
            if (RestoreBestWeights) Snapshot(context.Network);
            return;
        }
        if (++_wait > Patience)
        {
            StoppedEpoch = epoch.Epoch;
            context.RequestStop($"EarlyStopping: {Monitor} did not improve for {Patience} epochs after epoch {BestEpoch} (best {_bestValue:G5}).");
        }
    }

    /// <inheritdoc />
    public void OnTrainingEnd(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!RestoreBestWeights || _best is null || BestEpoch == context.History.Last?.Epoch) return;
        IReadOnlyList<Layers.Parameter> parameters = context.Network.Parameters;
        for (int i = 0; i < parameters.Count; i++) _best[i].CopyTo(parameters[i].Values);
    }

    private bool LowerIsBetter => Monitor is Metric.TrainingLoss or Metric.ValidationLoss;

    private void Snapshot(Network network)
    {
        IReadOnlyList<Layers.Parameter> parameters = network.Parameters;
        _best ??= parameters.Select(p => new float[p.Length]).ToArray();
        for (int i = 0; i < parameters.Count; i++) parameters[i].Values.CopyTo(_best[i]);
    }
}
