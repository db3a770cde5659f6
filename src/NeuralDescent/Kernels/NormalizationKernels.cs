using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels;

/// <summary>
/// The reductions and affine passes of batch normalization over one plane (a feature's or channel's values of one
/// sample). Sums run in 32 float lanes (four Vector256 accumulators, or eight Vector128 where 256-bit vectors are not
/// accelerated) combined in a fixed order, so a result depends on the data alone, never on timing or threads.
/// </summary>
internal static class NormalizationKernels
{
    /// <summary>Σᵢ xᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x) => Reduce(x, x, 0f, Kind.Sum);

    /// <summary>Σᵢ (xᵢ − μ)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean) => Reduce(x, x, mean, Kind.SquaredDeviation);

    /// <summary>Σᵢ (xᵢ − μ)·yᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CenteredDot(ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> y) => Reduce(x, y, mean, Kind.CenteredDot);

    /// <summary>zᵢ = a·xᵢ + b·yᵢ + c (with <paramref name="b"/> = 0, y is not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Affine(ReadOnlySpan<float> x, float a, ReadOnlySpan<float> y, float b, float c, Span<float> z)
    {
        int n = z.Length, i = 0;
        if (x.Length < n || (b != 0f && y.Length < n)) throw new ArgumentException("Affine: a span is too short.");
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b), vc = Vector256.Create(c);
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> v = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, 8)), va, vc);
                if (b != 0f) v = Vector256.FusedMultiplyAdd(Vector256.Create(y.Slice(i, 8)), vb, v);
                v.CopyTo(z.Slice(i, 8));
            }
        }
        for (; i < n; i++) z[i] = b != 0f ? MathF.FusedMultiplyAdd(y[i], b, MathF.FusedMultiplyAdd(x[i], a, c)) : MathF.FusedMultiplyAdd(x[i], a, c);
    }

    private enum Kind
    {
        Sum,
        SquaredDeviation,
        CenteredDot,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(ReadOnlySpan<float> x, ReadOnlySpan<float> y, float mean, Kind kind)
    {
        int n = x.Length, i = 0;
        if (kind == Kind.CenteredDot && y.Length < n) throw new ArgumentException("CenteredDot: y is shorter than x.");
        Span<float> lanes = stackalloc float[32];
        lanes.Clear();
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, m = Vector256.Create(mean);
            for (; i <= n - 32; i += 32)
            {
                a0 = Term(Vector256.Create(x.Slice(i, 8)), kind == Kind.CenteredDot ? Vector256.Create(y.Slice(i, 8)) : default, m, kind, a0);
                a1 = Term(Vector256.Create(x.Slice(i + 8, 8)), kind == Kind.CenteredDot ? Vector256.Create(y.Slice(i + 8, 8)) : default, m, kind, a1);
                a2 = Term(Vector256.Create(x.Slice(i + 16, 8)), kind == Kind.CenteredDot ? Vector256.Create(y.Slice(i + 16, 8)) : default, m, kind, a2);
                a3 = Term(Vector256.Create(x.Slice(i + 24, 8)), kind == Kind.CenteredDot ? Vector256.Create(y.Slice(i + 24, 8)) : default, m, kind, a3);
            }
            a0.CopyTo(lanes);
            a1.CopyTo(lanes[8..]);
            a2.CopyTo(lanes[16..]);
            a3.CopyTo(lanes[24..]);
        }
        // The rest (and everything without 256-bit vectors), lane by lane in the same 32 slots.
        for (int lane = 0; i < n; i++, lane = (lane + 1) & 31)
        {
            float v = x[i];
            lanes[lane] += kind switch { Kind.Sum => v, Kind.SquaredDeviation => (v - mean) * (v - mean), _ => (v - mean) * y[i] };
        }
        float total = 0f;
        for (int lane = 0; lane < 32; lane++) total += lanes[lane];
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Term(Vector256<float> x, Vector256<float> y, Vector256<float> mean, Kind kind, Vector256<float> accumulator)
    {
        switch (kind)
        {
            case Kind.Sum:
                return accumulator + x;
            case Kind.SquaredDeviation:
                Vector256<float> d = x - mean;
                return Vector256.FusedMultiplyAdd(d, d, accumulator);
            default:
                return Vector256.FusedMultiplyAdd(x - mean, y, accumulator);
        }
    }
}
