namespace NeuralDescent.Training;

/// <summary>A warning raised during training, such as a layer whose gradients vanish or explode.</summary>
/// <param name="Epoch">The epoch it was seen in.</param>
/// <param name="Layer">The layer index.</param>
/// <param name="LayerName">The layer's name.</param>
/// <param name="Kind">What was seen.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record TrainingWarning(int Epoch, int Layer, string LayerName, TrainingWarningKind Kind, string Message);
