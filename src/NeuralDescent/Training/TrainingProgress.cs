namespace NeuralDescent.Training;

/// <summary>A progress report, sent after every mini-batch and once more at the end of each epoch (a struct: reporting allocates nothing).</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Total epochs of the run.</param>
/// <param name="Batch">Batches completed in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Running mean of the batch losses so far in this epoch.</param>
/// <param name="CompletedEpoch">The epoch's summary on the final report of an epoch, otherwise null.</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, float Loss, EpochSummary? CompletedEpoch);
