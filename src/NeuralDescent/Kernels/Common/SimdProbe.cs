using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels.Common;

/// <summary>
/// Measures, once per process, whether 512-bit FMAs really do twice the work of 256-bit ones on this core.
/// </summary>
/// <remarks>
/// <see cref="Vector512.IsHardwareAccelerated"/> only says the instructions exist. Cores with two 512-bit FMA units
/// (most Intel server parts) double their FLOP rate with them; Zen 4 splits each into two 256-bit halves, so the rate
/// stays the same and the 12×16 Vector512 GEMM kernel, which packs A, ran at 81–83 % of peak there against 97 % for the
/// 6×16 Vector256 kernel reading A in place (72×128×256, one thread). The probe times twelve independent FMA chains
/// of each width for about 0.1 ms in all; noise can only make it pick the other kernel, never change a result, since
/// both kernels add the same products in the same order.
/// </remarks>
internal static class SimdProbe
{
    private const int Iterations = 4096;

    /// <summary>True when Vector512 is accelerated and its FMA throughput in lanes per second is at least 1.4× Vector256's.</summary>
    public static bool Vector512FmaPays()
    {
        if (!Vector512.IsHardwareAccelerated || !Vector256.IsHardwareAccelerated) return false;
        Fma256(16);
        Fma512(16);
        double best256 = double.MaxValue, best512 = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Fma256(Iterations);
            long t1 = Stopwatch.GetTimestamp();
            Fma512(Iterations);
            long t2 = Stopwatch.GetTimestamp();
            best256 = Math.Min(best256, t1 - t0);
            best512 = Math.Min(best512, t2 - t1);
        }
        // Each run does the same number of FMA instructions; a 512-bit one covers twice the lanes.
        return 2.0 * best256 / Math.Max(best512, 1) >= 1.4;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256(int iterations)
    {
        Vector256<float> m = Vector256.Create(0.999f), a = Vector256.Create(1e-3f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma512(int iterations)
    {
        Vector512<float> m = Vector512.Create(0.999f), a = Vector512.Create(1e-3f);
        Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
