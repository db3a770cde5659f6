using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Inverted dropout (Srivastava et al., 2014): in training, each value is kept with probability 1 − p and scaled by 1/(1 − p), otherwise set to 0.</summary>
/// <remarks>
/// <para>Training: <c>y = x ⊙ m</c>, mᵢ = 1/(1 − p) with probability 1 − p, else 0, drawn afresh for every batch; backward <c>∂C/∂x = ∂C/∂y ⊙ m</c>.
/// Outside training (<c>Predict</c>, <c>Evaluate</c>) it is the identity, and because of the 1/(1 − p) scaling the expected activation is the same in both modes.</para>
/// <para>The mask comes from the layer's <see cref="Random"/> generator, two values per 64-bit draw x (uniforms
/// ⌊x / 2⁴⁰⌋·2⁻²⁴ and (⌊x / 2¹⁶⌋ mod 2²⁴)·2⁻²⁴ for consecutive elements), value i kept when its uniform is below 1 − p.</para>
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
            // Each 64-bit draw x gives two uniforms u = n·2⁻²⁴: n = x ≫ 40 for an even element, n = (x ≫ 16) mod 2²⁴ for
            // the odd one after it. Keep when u < 1 − p, i.e. n < ⌈(1 − p)·2²⁴⌉, tested without a branch (a branch on
            // random data mispredicts at rate ≈ p).
            long threshold = (long)MathF.Ceiling(keep * (1 << 24));
            uint scaleBits = (uint)BitConverter.SingleToInt32Bits(scale);
            Span<float> mask = _mask.AsSpan(0, input.Length);
            int i = 0;
            for (; i + 2 <= mask.Length; i += 2)
            {
                ulong x = random.NextUInt64();
                mask[i] = KeepOrDrop((long)(x >> 40), threshold, scaleBits);
                mask[i + 1] = KeepOrDrop((long)((x >> 16) & 0xFFFFFF), threshold, scaleBits);
            }
            if (i < mask.Length) mask[i] = KeepOrDrop((long)(random.NextUInt64() >> 40), threshold, scaleBits);
        }
        System.Numerics.Tensors.TensorPrimitives.Multiply(input, _mask.AsSpan(0, input.Length), output);
    }

    /// <summary>1/(1 − p) as bits when n is below the threshold, else +0.</summary>
    private static float KeepOrDrop(long n, long threshold, uint scaleBits)
        => BitConverter.Int32BitsToSingle((int)(scaleBits & (uint)((n - threshold) >> 63))); // all ones when n < threshold

    /// <inheritdoc />
    protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        => System.Numerics.Tensors.TensorPrimitives.Multiply(outputGradient, _mask.AsSpan(0, outputGradient.Length), inputGradient);
}
