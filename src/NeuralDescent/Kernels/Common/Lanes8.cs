using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels.Common;

/// <summary>
/// Operations on eight float lanes held in a vector type <typeparamref name="TVector"/>, so that a dot-product kernel is
/// written once and compiled for each instruction set: <see cref="Lanes256"/> (one <c>Vector256</c>, x64) and
/// <see cref="Lanes128x2"/> (two <c>Vector128</c>, ARM64 AdvSimd).
/// </summary>
/// <remarks>
/// Both keep lane i of the eight in the same place and reduce them in the same order,
/// <c>((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))</c> (the order of <c>Vector256.Sum</c>), so a kernel gives
/// bitwise-equal results on x64 and ARM64. The operations are static on a separate type, not on a wrapper around
/// <c>Vector256</c>: a wrapper struct made the JIT copy every accumulator after each FMA.
/// </remarks>
internal unsafe interface ILanes8<TVector> where TVector : unmanaged
{
    /// <summary>Loads eight floats from <paramref name="p"/>.</summary>
    static abstract TVector Load(float* p);

    /// <summary>a·b + c per lane, with one rounding (fused).</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary>a + b per lane.</summary>
    static abstract TVector Add(TVector a, TVector b);

    /// <summary>a − b per lane.</summary>
    static abstract TVector Subtract(TVector a, TVector b);

    /// <summary>Eight copies of <paramref name="value"/>.</summary>
    static abstract TVector Create(float value);

    /// <summary>Stores the eight lanes at <paramref name="p"/>.</summary>
    static abstract void Store(TVector v, float* p);

    /// <summary>((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).</summary>
    static abstract float Sum(TVector v);
}

/// <summary>Eight lanes in one <see cref="Vector256{T}"/>.</summary>
internal readonly unsafe struct Lanes256 : ILanes8<Vector256<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);
}

/// <summary>Eight lanes in two <see cref="Vector128{T}"/> (lanes 0–3 and 4–7).</summary>
internal readonly unsafe struct Lanes128x2 : ILanes8<Lanes128x2.Pair>
{
    /// <summary>Lanes 0–3 and 4–7.</summary>
    internal readonly struct Pair(Vector128<float> lo, Vector128<float> hi)
    {
        public readonly Vector128<float> Lo = lo, Hi = hi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Load(float* p) => new(Vector128.Load(p), Vector128.Load(p + 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair MultiplyAdd(Pair a, Pair b, Pair c) =>
        new(Vector128.FusedMultiplyAdd(a.Lo, b.Lo, c.Lo), Vector128.FusedMultiplyAdd(a.Hi, b.Hi, c.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Add(Pair a, Pair b) => new(a.Lo + b.Lo, a.Hi + b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Subtract(Pair a, Pair b) => new(a.Lo - b.Lo, a.Hi - b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Pair Create(float value) => new(Vector128.Create(value), Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Pair v, float* p)
    {
        v.Lo.Store(p);
        v.Hi.Store(p + 4);
    }

    // Vector128.Sum is (l0 + l1) + (l2 + l3) on both x64 and ARM64.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Pair v) => Vector128.Sum(v.Lo) + Vector128.Sum(v.Hi);
}
