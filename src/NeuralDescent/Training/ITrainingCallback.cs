namespace NeuralDescent.Training;

/// <summary>
/// Hooks into <see cref="Trainer.Fit(Network, Data.Dataset, Data.Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/>,
/// as Keras users know them: called synchronously on the training thread at the start, after every batch, after every
/// epoch (with its metrics) and at the end. Every method has an empty default, so implement only what you need.
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before the first batch.</summary>
    /// <param name="context">The run.</param>
    void OnTrainingStart(TrainingContext context)
    {
    }

    /// <summary>Before the first batch of every epoch.</summary>
    /// <param name="context">The run.</param>
    /// <param name="epoch">The 1-based epoch about to start.</param>
    void OnEpochStart(TrainingContext context, int epoch)
    {
    }

    /// <summary>After every optimizer step.</summary>
    /// <param name="context">The run; <see cref="TrainingContext.RequestStop"/> ends it after this batch.</param>
    /// <param name="batch">The step's loss, learning rate and gradient norm.</param>
    void OnBatchEnd(TrainingContext context, BatchSummary batch)
    {
    }

    /// <summary>After every epoch, once its evaluation is done.</summary>
    /// <param name="context">The run; <see cref="TrainingContext.RequestStop"/> ends it here.</param>
    /// <param name="epoch">The epoch's metrics.</param>
    void OnEpochEnd(TrainingContext context, EpochSummary epoch)
    {
    }

    /// <summary>When the trainer notices trouble, e.g. a layer whose gradients vanish or explode (see <see cref="TrainerOptions.VanishingGradientRms"/>).</summary>
    /// <param name="context">The run.</param>
    /// <param name="warning">What was seen, naming the layer.</param>
    void OnWarning(TrainingContext context, TrainingWarning warning)
    {
    }

    /// <summary>After the last epoch, or when the run stops early (not after an exception).</summary>
    /// <param name="context">The run.</param>
    void OnTrainingEnd(TrainingContext context)
    {
    }
}
