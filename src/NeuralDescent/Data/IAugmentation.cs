using NeuralDescent.Randomness;

namespace NeuralDescent.Data;

/// <summary>A random transformation of one training input, applied to each sample of each training batch (never to evaluation data).</summary>
public interface IAugmentation
{
    /// <summary>Transforms <paramref name="input"/> in place.</summary>
    /// <param name="input">One sample's features.</param>
    /// <param name="random">The run's data stream (<see cref="RandomStreamKind.Data"/>), so augmented runs are reproducible.</param>
    void Apply(Span<float> input, RandomGenerator random);
}
