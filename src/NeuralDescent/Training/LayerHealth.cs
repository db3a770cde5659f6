namespace NeuralDescent.Training;

/// <summary>How one layer's parameters moved during an epoch: the signal for vanishing and exploding gradients.</summary>
/// <param name="Layer">Index of the layer in the network.</param>
/// <param name="Name">The layer's name.</param>
/// <param name="GradientNorm">Mean over the epoch's batches of ‖∂C/∂θ‖₂ over the layer's parameters (before clipping).</param>
/// <param name="GradientRms">GradientNorm / √n, n the layer's parameter count: comparable across layer sizes.</param>
/// <param name="UpdateRatio">‖θ_end − θ_start‖ / ‖θ_start‖ over the epoch; healthy training is often around 1e-3 per step.</param>
public sealed record LayerHealth(int Layer, string Name, double GradientNorm, double GradientRms, double UpdateRatio);
