using NeuralDescent.Kernels.Common;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Inverted dropout (Srivastava et al., 2014): in training, each value is kept with probability 1 − p and scaled by 1/(1 − p), otherwise set to 0.</summary>
/// <remarks>
/// <para>Training: <c>y = x ⊙ m</c>, mᵢ = 1/(1 − p) with probability 1 − p, else 0, drawn afresh for every batch; backward <c>∂C/∂x = ∂C/∂y ⊙ m</c>.
/// Outside training (<c>Predict</c>, <c>Evaluate</c>) it is the identity, and because of the 1/(1 − p) scaling the expected activation is the same in both modes.</para>
/// <para>The mask: each training batch takes one 64-bit key k from the layer's <see cref="Random"/> generator; values
/// 2j and 2j + 1 take the uniforms ⌊h / 2⁴⁰⌋·2⁻²⁴ and (⌊h / 2¹⁶⌋ mod 2²⁴)·2⁻²⁴ of h = the (j + 1)-th output of SplitMix64
/// started at k (<see cref="RandomGenerator.SplitMix64"/>), and a value is kept when its uniform is below 1 − p. Each
/// pair depends only on k and j, so the kernel threads share the work and any split gives the same mask.</para>
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
    protected override unsafe void ApplyTraining(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        bool draw = !FreezeMask || _mask.Length < input.Length;
        if (_mask.Length < input.Length) _mask = new float[input.Length];
        ulong key = draw ? (Random ??= new RandomGenerator(0)).NextUInt64() : 0;
        fixed (float* x = input, y = output, m = _mask)
        {
            _job.Set(x, y, m, input.Length, draw, key, Rate);
            try
            {
                RangeParallel.Run(_job, (input.Length + 1) / 2, MinimumPairsPerThread);
            }
            finally
            {
                _job.Clear();
            }
        }
    }

    /// <inheritdoc />
    protected override unsafe void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
    {
        if (_mask.Length < outputGradient.Length) throw new InvalidOperationException($"{Name}: backward before a training forward pass of this batch size.");
        fixed (float* dy = outputGradient, dx = inputGradient, m = _mask)
        {
            _job.Set(dy, dx, m, outputGradient.Length, false, 0, Rate);
            try
            {
                RangeParallel.Run(_job, (outputGradient.Length + 1) / 2, MinimumPairsPerThread);
            }
            finally
            {
                _job.Clear();
            }
        }
    }

    /// <summary>Pairs of values below which a batch's mask is not worth splitting across threads.</summary>
    private const int MinimumPairsPerThread = 16_384;

    private readonly MaskJob _job = new();

    /// <summary>
    /// Draws the mask (when asked) and writes y = x ⊙ m over a range of value pairs; pair j takes the j-th output of
    /// SplitMix64 started at the batch's key, so any split over threads gives the same mask.
    /// </summary>
    private sealed unsafe class MaskJob : IRangeWork
    {
        private float* _x, _y, _mask;
        private bool _draw;
        private ulong _key;
        private long _threshold;
        private uint _scaleBits;
        private int _length;

        public void Set(float* x, float* y, float* mask, int length, bool draw, ulong key, float rate)
        {
            _x = x;
            _y = y;
            _mask = mask;
            (_length, _draw, _key) = (length, draw, key);
            float keep = 1f - rate;
            // Keep when u < 1 − p with u = n·2⁻²⁴, i.e. n < ⌈(1 − p)·2²⁴⌉, tested without a branch (a branch on random
            // data mispredicts at rate ≈ p).
            _threshold = (long)MathF.Ceiling(keep * (1 << 24));
            _scaleBits = (uint)BitConverter.SingleToInt32Bits(1f / keep);
        }

        public void Clear() => _x = _y = _mask = null;

        public void Run(int start, int end)
        {
            // Mask and product in one pass, while the mask values are in registers.
            for (int j = start; j < end; j++)
            {
                int i = 2 * j;
                if (_draw)
                {
                    // The (j + 1)-th output of SplitMix64 from the key: two 24-bit uniforms, bits 63..40 and 39..16.
                    ulong state = _key + (ulong)j * 0x9E3779B97F4A7C15UL;
                    ulong h = RandomGenerator.SplitMix64(ref state);
                    _mask[i] = KeepOrDrop((long)(h >> 40));
                    if (i + 1 < _length) _mask[i + 1] = KeepOrDrop((long)((h >> 16) & 0xFFFFFF));
                }
                _y[i] = _x[i] * _mask[i];
                if (i + 1 < _length) _y[i + 1] = _x[i + 1] * _mask[i + 1];
            }
        }

        /// <summary>1/(1 − p) as bits when n is below the threshold, else +0.</summary>
        private float KeepOrDrop(long n) => BitConverter.Int32BitsToSingle((int)(_scaleBits & (uint)((n - _threshold) >> 63))); // all ones when n < threshold
    }
}
