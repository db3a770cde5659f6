namespace NeuralDescent.Layers;

/// <summary>
/// A layer that is the identity outside training (<see cref="Dropout"/>): inference workspaces let its output share its
/// input's buffer and skip the layer, so predictions do not copy its values.
/// </summary>
/// <remarks>The layer's <see cref="ILayer.Connect"/> must keep the size.</remarks>
internal interface IIdentityOutsideTraining : ILayer;
