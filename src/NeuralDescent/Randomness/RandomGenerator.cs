using System.Runtime.CompilerServices;

namespace NeuralDescent.Randomness;

/// <summary>
/// The library's own seeded pseudo-random generator: xoshiro256** (Blackman and Vigna, 2018),
/// with its 256-bit state filled from a 64-bit seed by SplitMix64.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="System.Random"/>'s seeded sequence is not guaranteed to stay the same across .NET versions,
/// so every random decision in NeuralDescent (initialization, shuffling, dropout) comes from this generator,
/// whose output is fixed by its definition:
/// <c>result = rotl(s₁ · 5, 7) · 9; t = s₁ ≪ 17; s₂ ^= s₀; s₃ ^= s₁; s₁ ^= s₂; s₀ ^= s₃; s₂ ^= t; s₃ = rotl(s₃, 45)</c>.
/// </para>
/// <para>
/// Seeding: <c>sᵢ = SplitMix64(seed)</c> for i = 0..3, i.e. the first four outputs of SplitMix64 started at <c>seed</c>.
/// Published test vector: <c>new RandomGenerator(0).NextUInt64()</c> returns <c>0x99EC5F36CB75F2B4</c> first
/// and <c>0xBF6E1F784956452A</c> second (asserted by the test suite).
/// </para>
/// <para>Floats are drawn as <c>(x ≫ 40) · 2⁻²⁴</c>, exactly representable in [0, 1); normals by the Box–Muller transform in double precision.</para>
/// <para>Thread safety: none; each draw advances the state. Use one generator per thread.</para>
/// </remarks>
public sealed class RandomGenerator
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose sequence is fixed by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any 64-bit value; equal seeds give equal sequences on every platform and .NET version.</param>
    public RandomGenerator(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    private RandomGenerator(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>
    /// Derives the independent stream <paramref name="stream"/> of a run from its <paramref name="seed"/>:
    /// the generator seeded with <c>SplitMix64(seed) ⊕ SplitMix64(stream + 0x9E3779B97F4A7C15)</c>.
    /// </summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="stream">Which stream; see <see cref="RandomStreamKind"/>.</param>
    /// <returns>A generator whose sequence depends only on the seed and the stream.</returns>
    public static RandomGenerator ForStream(ulong seed, RandomStreamKind stream)
    {
        ulong a = seed;
        ulong b = (ulong)stream + 0x9E3779B97F4A7C15UL;
        return new RandomGenerator(SplitMix64(ref a) ^ SplitMix64(ref b));
    }

    /// <summary>
    /// One step of SplitMix64 (Steele, Lea and Flood, 2014): <c>x += 0x9E3779B97F4A7C15</c>, then the output
    /// is <c>x</c> mixed by two xor-shift-multiply rounds. From <c>x = 0</c> the first output is <c>0xE220A8397B1DCDAF</c>.
    /// </summary>
    /// <param name="state">The generator's state, advanced in place.</param>
    /// <returns>The next 64-bit output.</returns>
    public static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The generator's full 256-bit state, for checkpoints.</summary>
    /// <returns>The four state words s₀..s₃.</returns>
    public (ulong S0, ulong S1, ulong S2, ulong S3) GetState() => (_s0, _s1, _s2, _s3);

    /// <summary>Recreates a generator from a state returned by <see cref="GetState"/>.</summary>
    /// <param name="state">The four state words; not all zero.</param>
    /// <returns>A generator that continues the saved sequence.</returns>
    /// <exception cref="ArgumentException">All four words are zero (xoshiro's one invalid state).</exception>
    public static RandomGenerator FromState((ulong S0, ulong S1, ulong S2, ulong S3) state)
    {
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0)
            throw new ArgumentException("A xoshiro256** state must not be all zero.", nameof(state));
        return new RandomGenerator(state.S0, state.S1, state.S2, state.S3);
    }

    /// <summary>The next 64 random bits.</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform float in [0, 1): <c>(x ≫ 40) · 2⁻²⁴</c>.</summary>
    /// <returns>A value in [0, 1) with 24 random bits.</returns>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>A uniform double in [0, 1): <c>(x ≫ 11) · 2⁻⁵³</c>.</summary>
    /// <returns>A value in [0, 1) with 53 random bits.</returns>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An unbiased integer in [0, <paramref name="maxExclusive"/>) by Lemire's multiply-and-reject method.</summary>
    /// <param name="maxExclusive">The exclusive upper bound; positive.</param>
    /// <returns>A uniformly distributed integer below the bound.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong range = (ulong)maxExclusive;
        UInt128 product = (UInt128)NextUInt64() * range;
        ulong low = (ulong)product;
        if (low < range)
        {
            ulong threshold = (0UL - range) % range;
            while (low < threshold)
            {
                product = (UInt128)NextUInt64() * range;
                low = (ulong)product;
            }
        }
        return (int)(product >> 64);
    }

    /// <summary>A standard normal sample N(0, 1) by the Box–Muller transform: <c>√(−2 ln u₁) · cos(2π u₂)</c>, u₁ ∈ (0, 1].</summary>
    /// <returns>A normally distributed value with mean 0 and standard deviation 1.</returns>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="values"/> in place by Fisher–Yates (Durstenfeld), drawing with <see cref="NextInt32"/>.</summary>
    /// <param name="values">The values to permute.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
