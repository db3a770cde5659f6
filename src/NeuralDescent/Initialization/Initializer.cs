using NeuralDescent.Randomness;

namespace NeuralDescent.Initialization;

/// <summary>
/// A rule for drawing a layer's initial weights (and biases) from a seeded <see cref="RandomGenerator"/>.
/// </summary>
/// <remarks>
/// fanIn is the number of inputs of a unit, fanOut the number of outputs. The defaults a <c>Dense</c> layer picks
/// when none is given: <see cref="HeNormal"/> before ReLU-like activations, <see cref="GlorotUniform"/> otherwise.
/// </remarks>
public abstract class Initializer
{
    /// <summary>The tutorial's (and Nielsen's <c>network.py</c>) rule: weights and biases ~ N(0, 1).</summary>
    public static Initializer StandardNormal { get; } = new StandardNormalInitializer();

    /// <summary>Glorot/Xavier uniform (Glorot and Bengio, 2010): w ~ U(−a, a), a = √(6 / (fanIn + fanOut)); biases 0.</summary>
    public static Initializer GlorotUniform { get; } = new GlorotUniformInitializer();

    /// <summary>Glorot/Xavier normal: w ~ N(0, σ²), σ = √(2 / (fanIn + fanOut)); biases 0.</summary>
    public static Initializer GlorotNormal { get; } = new GlorotNormalInitializer();

    /// <summary>He/Kaiming normal (He et al., 2015), for ReLU: w ~ N(0, σ²), σ = √(2 / fanIn); biases 0.</summary>
    public static Initializer HeNormal { get; } = new HeNormalInitializer();

    /// <summary>He/Kaiming uniform, for ReLU: w ~ U(−a, a), a = √(6 / fanIn); biases 0.</summary>
    public static Initializer HeUniform { get; } = new HeUniformInitializer();

    /// <summary>Fills <paramref name="weights"/> (fanOut × fanIn values).</summary>
    /// <param name="weights">The weights to overwrite.</param>
    /// <param name="fanIn">Inputs per unit.</param>
    /// <param name="fanOut">Outputs (units).</param>
    /// <param name="random">The generator to draw from, advanced in place.</param>
    public abstract void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random);

    /// <summary>Fills the biases; zeros unless the rule says otherwise.</summary>
    /// <param name="biases">The biases to overwrite.</param>
    /// <param name="random">The generator to draw from.</param>
    public virtual void FillBiases(Span<float> biases, RandomGenerator random) => biases.Clear();

    /// <summary>Fills with N(0, σ²) samples.</summary>
    /// <param name="values">The values to overwrite.</param>
    /// <param name="sigma">Standard deviation σ.</param>
    /// <param name="random">The generator.</param>
    protected static void FillNormal(Span<float> values, double sigma, RandomGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < values.Length; i++) values[i] = (float)(sigma * random.NextNormal());
    }

    /// <summary>Fills with U(−a, a) samples.</summary>
    /// <param name="values">The values to overwrite.</param>
    /// <param name="limit">The bound a.</param>
    /// <param name="random">The generator.</param>
    protected static void FillUniform(Span<float> values, double limit, RandomGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < values.Length; i++) values[i] = (float)((2.0 * random.NextDouble() - 1.0) * limit);
    }

    private sealed class StandardNormalInitializer : Initializer
    {
        public override void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random) => FillNormal(weights, 1.0, random);
        public override void FillBiases(Span<float> biases, RandomGenerator random) => FillNormal(biases, 1.0, random);
        public override string ToString() => "StandardNormal";
    }

    private sealed class GlorotUniformInitializer : Initializer
    {
        public override void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random) => FillUniform(weights, Math.Sqrt(6.0 / (fanIn + fanOut)), random);
        public override string ToString() => "GlorotUniform";
    }

    private sealed class GlorotNormalInitializer : Initializer
    {
        public override void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random) => FillNormal(weights, Math.Sqrt(2.0 / (fanIn + fanOut)), random);
        public override string ToString() => "GlorotNormal";
    }

    private sealed class HeNormalInitializer : Initializer
    {
        public override void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random) => FillNormal(weights, Math.Sqrt(2.0 / fanIn), random);
        public override string ToString() => "HeNormal";
    }

    private sealed class HeUniformInitializer : Initializer
    {
        public override void FillWeights(Span<float> weights, int fanIn, int fanOut, RandomGenerator random) => FillUniform(weights, Math.Sqrt(6.0 / fanIn), random);
        public override string ToString() => "HeUniform";
    }
}
