namespace NeuralDescent.Training;

/// <summary>What one epoch of training did.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainingLoss">Mean of the batch losses over the epoch, weighted by batch size (computed during training, as Keras reports it).</param>
/// <param name="TrainingAccuracy">Fraction of training samples classified correctly by the forward passes of the epoch.</param>
/// <param name="TestLoss">Mean cost on the test set after the epoch, or null without a test set.</param>
/// <param name="TestAccuracy">Accuracy on the test set after the epoch, or null without a test set.</param>
/// <param name="Duration">Wall-clock time of the epoch's training steps (test evaluation excluded).</param>
public sealed record EpochSummary(int Epoch, float TrainingLoss, double TrainingAccuracy, float? TestLoss, double? TestAccuracy, TimeSpan Duration);
