using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralDescent.Kernels;

/// <summary>
/// Copies that write with non-temporal (streaming) stores: each full cache line of the destination goes out to memory
/// without first being read in and without waiting for other cores to give up their copies of it. Meant for a buffer
/// that several cores read after every write (a training batch: each thread's share of the first layer's products
/// reads every row, so every line of the batch sits in both cores' caches when the next batch is copied over it, and
/// an ordinary store must wait for the other core's copy to be invalidated first).
/// </summary>
/// <remarks>
/// The values written are exactly those of the ordinary path (float(byte) · scale, rounded once). Streaming stores are
/// used on x64 with AVX2 or AVX-512; elsewhere the same values are written with ordinary stores, as are the unaligned
/// head and the tail of each destination.
/// After a run of these copies and before another thread reads the destination, call <see cref="Fence"/>: streaming
/// stores are not ordered with later ordinary ones.
/// </remarks>
internal static unsafe class StreamingStores
{
    /// <summary>Whether streaming stores are used here (x64 with AVX2 and the vector kernels on).</summary>
    public static bool Supported => Avx2.IsSupported && MatrixKernels.SimdEnabled;

    /// <summary>destination[i] = source[i] · scale, the full 64-byte lines of <paramref name="destination"/> written with streaming stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleBytes(ReadOnlySpan<byte> source, float scale, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException($"The destination holds {destination.Length} values, fewer than the {source.Length} source bytes.", nameof(destination));
        int n = source.Length;
        if (!Supported)
        {
            ElementwiseKernels.ScaleBytes(source, scale, destination);
            return;
        }
        fixed (byte* src = source)
        fixed (float* dst = destination)
        {
            int i = Head(dst, n);
            for (int j = 0; j < i; j++) dst[j] = src[j] * scale;
            if (Avx512F.IsSupported)
            {
                Vector512<float> factor = Vector512.Create(scale);
                for (; i + 16 <= n; i += 16)
                    Avx512F.StoreAlignedNonTemporal(dst + i, Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(src + i))) * factor);
            }
            else
            {
                Vector256<float> factor = Vector256.Create(scale);
                for (; i + 8 <= n; i += 8)
                    Avx.StoreAlignedNonTemporal(dst + i, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + i)) * factor);
            }
            for (; i < n; i++) dst[i] = src[i] * scale;
        }
    }

    /// <summary>destination[i] = source[i], the full 64-byte lines of <paramref name="destination"/> written with streaming stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException($"The destination holds {destination.Length} values, fewer than the {source.Length} source values.", nameof(destination));
        int n = source.Length;
        if (!Supported)
        {
            source.CopyTo(destination);
            return;
        }
        fixed (float* src = source)
        fixed (float* dst = destination)
        {
            int i = Head(dst, n);
            for (int j = 0; j < i; j++) dst[j] = src[j];
            if (Avx512F.IsSupported)
            {
                for (; i + 16 <= n; i += 16) Avx512F.StoreAlignedNonTemporal(dst + i, Vector512.Load(src + i));
            }
            else
            {
                for (; i + 8 <= n; i += 8) Avx.StoreAlignedNonTemporal(dst + i, Vector256.Load(src + i));
            }
            for (; i < n; i++) dst[i] = src[i];
        }
    }

    /// <summary>Makes the streaming stores before it visible to other cores before any store after it (sfence).</summary>
    public static void Fence()
    {
        if (Sse.IsSupported) Sse.StoreFence();
    }

    /// <summary>Floats before the first one that starts a cache line (all of them if none of the first n does).</summary>
    private static int Head(float* destination, int n)
    {
        int head = (int)((64 - ((nuint)destination & 63)) & 63) / sizeof(float);
        // A float-aligned pointer reaches a line boundary after whole floats; anything else never does.
        return ((nuint)destination & 3) == 0 ? Math.Min(head, n) : n;
    }
}
