namespace NeuralDescent.Training;

/// <summary>What one mini-batch step did (a struct: callbacks receive it without allocation).</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Batch">1-based batch number within the epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">The batch-mean cost before the update.</param>
/// <param name="LearningRate">η used for the update.</param>
/// <param name="GradientNorm">‖∂C/∂θ‖₂ over all parameters before clipping.</param>
public readonly record struct BatchSummary(int Epoch, int Batch, int Batches, float Loss, float LearningRate, float GradientNorm)
{
    /// <summary>Samples in the batch (the last batch of an epoch may be smaller).</summary>
    public int Samples { get; init; }
}
