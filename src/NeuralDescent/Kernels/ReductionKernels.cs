using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>
/// Sums in a fixed order, whatever the CPU: batch normalization's statistics, convolution bias gradients, average
/// pooling and softmax. <c>TensorPrimitives.Sum</c> and <c>Dot</c> pick their vector width from the machine (512 bits
/// with AVX-512, 256 with AVX2, 128 on ARM64), so their rounding would change with the CPU; these do not. Also the
/// index of a short row's largest value (a prediction's class).
/// </summary>
/// <remarks>
/// Sums run in 32 float lanes: whole blocks of 32 values go lane by lane into four eight-lane accumulators
/// (<see cref="ILanes8{TVector}"/>: one Vector256 each on x64, two Vector128 on ARM64), with fused multiply-adds for
/// products; the rest continues lane by lane in scalar code; the 32 lanes are then added in order. A result therefore
/// depends on the data alone, never on the instruction set, timing or threads.
/// </remarks>
internal static unsafe class ReductionKernels
{
    /// <summary>Rows up to this long go through <see cref="IndexOfMax"/>'s own loop; longer ones through <c>TensorPrimitives.IndexOfMax</c>.</summary>
    internal const int ShortRow = 64;

    /// <summary>
    /// argmaxᵢ xᵢ as <c>TensorPrimitives.IndexOfMax</c> defines it: the first index of the largest value, +0 above −0, the
    /// first NaN's index when there is one, −1 for an empty span.
    /// </summary>
    /// <remarks>
    /// The classes of a training batch are counted row by row (ten values each for MNIST): a plain loop compiled
    /// optimized from the first call, where the generic library method runs unoptimized through most of a first epoch
    /// under tiered compilation and spends longer on its checks than on ten comparisons.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int IndexOfMax(ReadOnlySpan<float> x)
    {
        if (x.Length > ShortRow) return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(x);
        if (x.IsEmpty) return -1;
        int best = 0;
        float max = x[0];
        if (float.IsNaN(max)) return 0;
        for (int i = 1; i < x.Length; i++)
        {
            float v = x[i];
            if (v > max || (v == max && float.IsNegative(max) && !float.IsNegative(v)))
            {
                max = v;
                best = i;
            }
            else if (float.IsNaN(v))
            {
                return i;
            }
        }
        return best;
    }

    /// <summary>Σᵢ xᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x) => Reduce<SumTerm>(x, x, 0f);

    /// <summary>Σᵢ xᵢ·yᵢ (y at least as long as x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => Reduce<CenteredProductTerm>(x, y, 0f);

    /// <summary>Σᵢ (xᵢ − μ)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean) => Reduce<SquaredDeviationTerm>(x, x, mean);

    /// <summary>Σᵢ (xᵢ − μ)·yᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CenteredDot(ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> y) => Reduce<CenteredProductTerm>(x, y, mean);

    /// <summary>zᵢ = a·xᵢ + b·yᵢ + c (with <paramref name="b"/> = 0, y is not read), as fma(yᵢ, b, fma(xᵢ, a, c)) in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, float a, ReadOnlySpan<float> y, float b, float c, Span<float> z)
    {
        int n = z.Length, i = 0, width = Vector<float>.Count;
        if (x.Length < n || (b != 0f && y.Length < n)) throw new ArgumentException("Affine: a span is too short.");
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> va = new(a), vb = new(b), vc = new(c);
            for (; i <= n - width; i += width)
            {
                Vector<float> v = Vector.FusedMultiplyAdd(new Vector<float>(x.Slice(i, width)), va, vc);
                if (b != 0f) v = Vector.FusedMultiplyAdd(new Vector<float>(y.Slice(i, width)), vb, v);
                v.CopyTo(z.Slice(i, width));
            }
        }
        for (; i < n; i++) z[i] = b != 0f ? MathF.FusedMultiplyAdd(y[i], b, MathF.FusedMultiplyAdd(x[i], a, c)) : MathF.FusedMultiplyAdd(x[i], a, c);
    }

    /// <summary>What one value adds to a sum, in eight lanes and in scalar code (a struct, so each sum compiles on its own).</summary>
    private interface ITerm
    {
        static abstract T Add<TOps, T>(float* x, float* y, T mean, T accumulator) where TOps : ILanes8<T> where T : unmanaged;

        static abstract float Add(float x, float y, float mean, float accumulator);
    }

    private readonly struct SumTerm : ITerm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Add<TOps, T>(float* x, float* y, T mean, T accumulator) where TOps : ILanes8<T> where T : unmanaged => TOps.Add(accumulator, TOps.Load(x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Add(float x, float y, float mean, float accumulator) => accumulator + x;
    }

    private readonly struct SquaredDeviationTerm : ITerm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Add<TOps, T>(float* x, float* y, T mean, T accumulator) where TOps : ILanes8<T> where T : unmanaged
        {
            T d = TOps.Subtract(TOps.Load(x), mean);
            return TOps.MultiplyAdd(d, d, accumulator);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Add(float x, float y, float mean, float accumulator) => accumulator + (x - mean) * (x - mean);
    }

    private readonly struct CenteredProductTerm : ITerm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Add<TOps, T>(float* x, float* y, T mean, T accumulator) where TOps : ILanes8<T> where T : unmanaged =>
            TOps.MultiplyAdd(TOps.Subtract(TOps.Load(x), mean), TOps.Load(y), accumulator);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Add(float x, float y, float mean, float accumulator) => accumulator + (x - mean) * y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Reduce<TTerm>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, float mean)
        where TTerm : struct, ITerm
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("Reduce: y is shorter than x.");
        float* lanes = stackalloc float[32];
        new Span<float>(lanes, 32).Clear();
        int i = 0;
        fixed (float* px = x, py = y)
        {
            if (Vector256.IsHardwareAccelerated) i = Blocks<TTerm, Lanes256, Vector256<float>>(px, py, n, mean, lanes);
            else if (Vector128.IsHardwareAccelerated) i = Blocks<TTerm, Lanes128x2, Lanes128x2.Pair>(px, py, n, mean, lanes);
            // The rest (and everything without vectors), lane by lane in the same 32 slots.
            for (int lane = 0; i < n; i++, lane = (lane + 1) & 31) lanes[lane] = TTerm.Add(px[i], py[i], mean, lanes[lane]);
        }
        float total = 0f;
        for (int lane = 0; lane < 32; lane++) total += lanes[lane];
        return total;
    }

    /// <summary>Whole blocks of 32 values into the 32 lanes; returns how many values it took.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Blocks<TTerm, TOps, T>(float* x, float* y, int n, float mean, float* lanes)
        where TTerm : struct, ITerm
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        T a0 = default, a1 = default, a2 = default, a3 = default, m = TOps.Create(mean);
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            a0 = TTerm.Add<TOps, T>(x + i, y + i, m, a0);
            a1 = TTerm.Add<TOps, T>(x + i + 8, y + i + 8, m, a1);
            a2 = TTerm.Add<TOps, T>(x + i + 16, y + i + 16, m, a2);
            a3 = TTerm.Add<TOps, T>(x + i + 24, y + i + 24, m, a3);
        }
        TOps.Store(a0, lanes);
        TOps.Store(a1, lanes + 8);
        TOps.Store(a2, lanes + 16);
        TOps.Store(a3, lanes + 24);
        return i;
    }
}
