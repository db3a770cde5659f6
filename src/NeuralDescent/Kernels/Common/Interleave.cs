using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NeuralDescent.Kernels.Common;

/// <summary>
/// Four-lane shuffles that split pairs apart and zip them back (SSE on x64, AdvSimd on ARM64, element by element
/// elsewhere): <c>Evens(a, b) = (a0, a2, b0, b2)</c>, <c>Odds(a, b) = (a1, a3, b1, b3)</c>,
/// <c>ZipLow(a, b) = (a0, b0, a1, b1)</c>, <c>ZipHigh(a, b) = (a2, b2, a3, b3)</c>.
/// </summary>
internal static class Interleave
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Evens(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.Shuffle(a, b, 0b10_00_10_00);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.UnzipEven(a, b);
        return Vector128.Create(a[0], a[2], b[0], b[2]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Odds(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.Shuffle(a, b, 0b11_01_11_01);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.UnzipOdd(a, b);
        return Vector128.Create(a[1], a[3], b[1], b[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipLow(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.UnpackLow(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipLow(a, b);
        return Vector128.Create(a[0], b[0], a[1], b[1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipHigh(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.UnpackHigh(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipHigh(a, b);
        return Vector128.Create(a[2], b[2], a[3], b[3]);
    }
}
