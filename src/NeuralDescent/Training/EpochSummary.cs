namespace NeuralDescent.Training;

/// <summary>What one epoch of training did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingLoss">Mean of the batch losses over the epoch, weighted by batch size (computed during training, as Keras reports it).</param>
/// <param name="TrainingAccuracy">Fraction of training samples classified correctly by the forward passes of the epoch.</param>
/// <param name="TestLoss">Mean cost on the test set after the epoch, or null without a test set.</param>
/// <param name="TestAccuracy">Accuracy on the test set after the epoch, or null without a test set.</param>
/// <param name="Duration">Wall-clock time of the epoch's training steps (evaluation excluded).</param>
public sealed record EpochSummary(int Epoch, float TrainingLoss, double TrainingAccuracy, float? TestLoss, double? TestAccuracy, TimeSpan Duration)
{
    /// <summary>Mean cost on the validation split after the epoch, or null without one (<see cref="TrainerOptions.ValidationSplit"/>).</summary>
    public float? ValidationLoss { get; init; }

    /// <summary>Accuracy on the validation split after the epoch, or null without one.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Per-layer gradient norms and update-to-weight ratios of the epoch (layers with parameters only).</summary>
    public IReadOnlyList<LayerHealth> Health { get; init; } = [];

    /// <summary>The learning rate η of the epoch's last step.</summary>
    public float LearningRate { get; init; }
}
