using NeuralDescent.Costs;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Training;

/// <summary>The state of a running <see cref="Trainer.Fit(Network, Data.Dataset, Data.Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/> call, as callbacks see it.</summary>
public sealed class TrainingContext
{
    internal TrainingContext(Network network, ICostFunction cost, IOptimizer optimizer, TrainerOptions options, TrainingHistory history, bool hasValidation)
    {
        Network = network;
        Cost = cost;
        Optimizer = optimizer;
        Options = options;
        History = history;
        HasValidation = hasValidation;
    }

    /// <summary>The network being trained.</summary>
    public Network Network { get; }

    /// <summary>The cost being minimized.</summary>
    public ICostFunction Cost { get; }

    /// <summary>The optimizer (its <see cref="IOptimizer.LearningRate"/> is the current η).</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The run's settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The epochs completed so far.</summary>
    public TrainingHistory History { get; }

    /// <summary>Whether a validation split is measured after each epoch.</summary>
    public bool HasValidation { get; }

    /// <summary>Mini-batches per epoch.</summary>
    public int BatchesPerEpoch { get; internal set; }

    /// <summary>The current 1-based epoch.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Whether a callback asked to stop.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Why training stopped early, if a callback said.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Captures the run's state at the end of the current epoch (set by the trainer).</summary>
    internal Func<Serialization.Checkpoint>? Capture { get; set; }

    /// <summary>Writes a resumable checkpoint of the run as it stands (call it from <see cref="ITrainingCallback.OnEpochEnd"/>).</summary>
    /// <param name="path">The file to create or replace, atomically.</param>
    public void SaveCheckpoint(string path)
    {
        Func<Serialization.Checkpoint> capture = Capture ?? throw new InvalidOperationException("Checkpoints can be taken only while Trainer.Fit runs.");
        capture().Save(path);
    }

    /// <summary>Ends training after the current batch or epoch.</summary>
    /// <param name="reason">Recorded in <see cref="TrainingHistory.StopReason"/>.</param>
    public void RequestStop(string reason)
    {
        StopRequested = true;
        StopReason = reason;
    }
}
