using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Inverted dropout (Srivastava et al., 2014): in training, each value is kept with probability 1 − p and scaled by 1/(1 − p), otherwise set to 0.</summary>
/// <remarks>
/// <para>Training: <c>y = x ⊙ m</c>, mᵢ = 1/(1 − p) with probability 1 − p, else 0, drawn afresh for every batch; backward <c>∂C/∂x = ∂C/∂y ⊙ m</c>.
/// Outside training (<c>Predict</c>, <c>Evaluate</c>) it is the identity, and because of the 1/(1 − p) scaling the expected activation is the same in both modes.</para>
/// <para>The mask buffer grows with the largest batch seen and is then reused.</para>
/// </remarks>
public sealed class Dropout : ActivationLayer, IRandomizedLayer
{
    private float[] _mask = [];

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="rate">p, the probability of dropping a value, in [0, 1); common values 0.1–0.5.</param>
    public Dropout(float rate)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "The dropout rate p must be in [0, 1).");
        Rate = rate;
    }

    /// <summary>p, the drop probability.</summary>
    public float Rate { get; }

    /// <inheritdoc />
    public RandomGenerator? Random { get; set; }

    /// <inheritdoc />
    public override LayerSpec Describe() => new LayerSpec("Dropout").With("rate", Rate);

    /// <inheritdoc />
    public override string Name => $"Dropout({Rate})";

    /// <summary>When true, training-mode forward passes reuse the last mask instead of drawing a new one (for gradient checks).</summary>
    internal bool FreezeMask { get; set; }

    /// <inheritdoc />
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => input.CopyTo(output);

    /// <inheritdoc />
    protected override void ApplyTraining(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        if (!FreezeMask || _mask.Length < input.Length)
        {
            if (_mask.Length < input.Length) _mask = new float[input.Length];
            RandomGenerator random = Random ??= new RandomGenerator(0);
            float keep = 1f - Rate, scale = 1f / keep;
            // Keep when u < 1 − p, u = n·2⁻²⁴ the generator's NextSingle with n its top 24 bits; for a whole n that is
            // n < ⌈(1 − p)·2²⁴⌉, tested without a branch (a branch on random data mispredicts at rate ≈ p).
            long threshold = (long)MathF.Ceiling(keep * (1 << 24));
            uint scaleBits = (uint)BitConverter.SingleToInt32Bits(scale);
            Span<float> mask = _mask.AsSpan(0, input.Length);
            for (int i = 0; i < mask.Length; i++)
            {
                long n = (long)(random.NextUInt64() >> 40);
                uint keepBits = (uint)((n - threshold) >> 63); // all ones when n < threshold
                mask[i] = BitConverter.Int32BitsToSingle((int)(scaleBits & keepBits));
            }
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(input, _mask.AsSpan(0, input.Length), output);
    }

    /// <inheritdoc />
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => System.Numerics.Tensors.TensorPrimitives.Multiply(outputGradient, _mask.AsSpan(0, outputGradient.Length), inputGradient);
}
