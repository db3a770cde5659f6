using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>A layer that draws random numbers in training mode (such as <see cref="Dropout"/>).</summary>
/// <remarks>The trainer hands every such layer the run's dropout stream (<see cref="RandomStreamKind.Dropout"/> of its seed) before training, shared in layer order, so runs are reproducible.</remarks>
public interface IRandomizedLayer : ILayer
{
    /// <summary>The generator to draw from; a layer without one creates its own from seed 0.</summary>
    RandomGenerator? Random { get; set; }
}
