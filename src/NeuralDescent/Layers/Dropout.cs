using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralDescent.Kernels.Common;
using NeuralDescent.Randomness;

namespace NeuralDescent.Layers;

/// <summary>Inverted dropout (Srivastava et al., 2014): in training, each value is kept with probability 1 − p and scaled by 1/(1 − p), otherwise set to 0.</summary>
/// <remarks>
/// <para>Training: <c>y = x ⊙ m</c>, mᵢ = 1/(1 − p) with probability 1 − p, else 0, drawn afresh for every batch; backward <c>∂C/∂x = ∂C/∂y ⊙ m</c>.
/// Outside training (<c>Predict</c>, <c>Evaluate</c>) it is the identity, and because of the 1/(1 − p) scaling the expected activation is the same in both modes;
/// a backward pass after an inference forward pass (saliency) is the identity as well.</para>
/// <para>The mask: each training batch takes one 64-bit key k from the layer's <see cref="Random"/> generator; values
/// 2j and 2j + 1 take the uniforms ⌊h / 2⁴⁰⌋·2⁻²⁴ and (⌊h / 2¹⁶⌋ mod 2²⁴)·2⁻²⁴ of h = the (j + 1)-th output of SplitMix64
/// started at k (<see cref="RandomGenerator.SplitMix64"/>), and a value is kept when its uniform is below 1 − p. Each
/// pair depends only on k and j, so the kernel threads share the work and any split gives the same mask.</para>
/// <para>The mask buffer grows with the largest batch seen and is then reused.</para>
/// </remarks>
public sealed class Dropout : ActivationLayer, IRandomizedLayer, IIdentityOutsideTraining
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

    /// <summary>Whether the last forward pass was in training; if not, backward is the identity too (saliency after training).</summary>
    private bool _lastForwardTraining;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        _lastForwardTraining = false;
        input.CopyTo(output);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override unsafe void ApplyTraining(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width)
    {
        _lastForwardTraining = true;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override unsafe void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
    {
        if (!_lastForwardTraining)
        {
            // Outside training the layer is the identity, and so is its derivative.
            outputGradient.CopyTo(inputGradient);
            return;
        }
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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int start, int end)
        {
            int j = start;
            // Whole groups of pairs in vectors; the scalar loop takes the rest (and ARM64's draws, which have no
            // 64-bit vector multiply), with the same arithmetic, so any split gives the same bits.
            if (!_draw) j = MultiplyVector(j, end);
            else if (Vector512.IsHardwareAccelerated && Avx512DQ.IsSupported) j = DrawVector512(j, end);
            // Mask and product in one pass, while the mask values are in registers.
            for (; j < end; j++)
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

        /// <summary>
        /// y = x ⊙ m over the whole pairs of [start, end); returns the first pair left. (A plain vector loop: a span
        /// multiply this long would store around the cache, and the next layer reads y at once.)
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int MultiplyVector(int start, int end)
        {
            int last = Math.Min(end, _length / 2);
            long i = 2L * start, stop = 2L * last;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i + 16 <= stop; i += 16) (Vector512.Load(_x + i) * Vector512.Load(_mask + i)).Store(_y + i);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= stop; i += 8) (Vector256.Load(_x + i) * Vector256.Load(_mask + i)).Store(_y + i);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                for (; i + 4 <= stop; i += 4) (Vector128.Load(_x + i) * Vector128.Load(_mask + i)).Store(_y + i);
            }
            return (int)(i / 2);
        }

        /// <summary>
        /// Eight pairs per step: SplitMix64 in 64-bit lanes (AVX-512DQ multiplies), each lane's two 24-bit uniforms placed
        /// in its low and high 32 bits, which are values 2j and 2j + 1 in memory order; returns the first pair left.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int DrawVector512(int start, int end)
        {
            const ulong Golden = 0x9E3779B97F4A7C15UL;
            int j = start;
            Vector512<ulong> state = Vector512.Create(_key + (ulong)(start + 1) * Golden) + Vector512<ulong>.Indices * Golden;
            Vector512<ulong> step = Vector512.Create(unchecked(8 * Golden));
            Vector512<int> threshold = Vector512.Create((int)_threshold);
            Vector512<int> scale = Vector512.Create((int)_scaleBits);
            for (; j + 8 <= end && 2 * (j + 8) <= _length; j += 8, state += step)
            {
                Vector512<ulong> z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                Vector512<ulong> uniforms = (z >> 40) | (((z >> 16) & Vector512.Create(0xFFFFFFUL)) << 32);
                Vector512<float> mask = (Vector512.LessThan(uniforms.AsInt32(), threshold) & scale).AsSingle();
                int i = 2 * j;
                mask.Store(_mask + i);
                (Vector512.Load(_x + i) * mask).Store(_y + i);
            }
            return j;
        }

        /// <summary>1/(1 − p) as bits when n is below the threshold, else +0.</summary>
        private float KeepOrDrop(long n) => BitConverter.Int32BitsToSingle((int)(_scaleBits & (uint)((n - _threshold) >> 63))); // all ones when n < threshold
    }
}
