namespace NeuralDescent.Metrics;

/// <summary>
/// Regression metrics over N samples of K outputs, a = network output, t = target, all N·K values pooled:
/// MAE = (1/NK) Σ |a − t|, RMSE = √((1/NK) Σ (a − t)²), R² = 1 − Σ (a − t)² / Σ (t − t̄ₖ)², t̄ₖ the mean target of output k.
/// </summary>
/// <param name="MeanAbsoluteError">MAE, in the targets' units.</param>
/// <param name="RootMeanSquaredError">RMSE, in the targets' units.</param>
/// <param name="RSquared">The coefficient of determination: 1 for perfect predictions, 0 for predicting each output's mean, negative when worse; NaN when every target of every output is the same.</param>
/// <param name="Count">Samples measured.</param>
public sealed record RegressionResult(double MeanAbsoluteError, double RootMeanSquaredError, double RSquared, int Count);
