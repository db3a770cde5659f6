namespace NeuralDescent.Data;

/// <summary>A training set and the held-out test set it is measured against, such as MNIST's 60,000 + 10,000 images.</summary>
/// <param name="Training">The samples the network learns from.</param>
/// <param name="Test">The samples used only to measure generalization.</param>
public sealed record DataSplit(Dataset Training, Dataset Test);
