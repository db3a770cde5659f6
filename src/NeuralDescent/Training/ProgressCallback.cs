namespace NeuralDescent.Training;

/// <summary>The built-in callback that turns batch and epoch ends into <see cref="TrainingProgress"/> reports for an <see cref="IProgress{T}"/>.</summary>
internal sealed class ProgressCallback(IProgress<TrainingProgress> progress) : ITrainingCallback
{
    private double _lossSum;
    private int _seen;

    public void OnEpochStart(TrainingContext context, int epoch)
    {
        _lossSum = 0;
        _seen = 0;
    }

    public void OnBatchEnd(TrainingContext context, BatchSummary batch)
    {
        _lossSum += (double)batch.Loss * batch.Samples;
        _seen += batch.Samples;
        progress.Report(new TrainingProgress(batch.Epoch, context.Options.Epochs, batch.Batch, batch.Batches, (float)(_lossSum / Math.Max(1, _seen)), null));
    }

    public void OnEpochEnd(TrainingContext context, EpochSummary epoch)
    {
        int batches = context.BatchesPerEpoch;
        progress.Report(new TrainingProgress(epoch.Epoch, context.Options.Epochs, batches, batches, epoch.TrainingLoss, epoch));
    }
}
