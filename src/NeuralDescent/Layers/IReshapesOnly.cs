namespace NeuralDescent.Layers;

/// <summary>
/// A layer whose output is its input, value for value, under another shape (<see cref="Flatten"/>): the network then
/// lets the layer's output share the previous layer's buffer and skips the copy both ways.
/// </summary>
/// <remarks>The layer's <see cref="ILayer.Connect"/> must keep the size; its Forward and Backward still copy when called
/// on their own (or as a network's first layer, whose input is the caller's).</remarks>
internal interface IReshapesOnly : ILayer;
