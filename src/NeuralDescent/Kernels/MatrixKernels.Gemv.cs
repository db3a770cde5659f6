using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>
    /// GEMV work below this many multiply-adds (n·k) stays on one thread: a W of up to 512 KiB is read from one core's L2
    /// in about 3 µs, and handing half of it to a second core costs a round trip of 0.5–1.3 µs plus x and y crossing
    /// between the cores (a 128×784 W on a Zen 5: 2.96–3.14 µs per Predict on one thread, 3.80–4.51 µs on two).
    /// </summary>
    internal const long GemvParallelThreshold = 1L << 17;

    [ThreadStatic] private static GemvJob? t_gemvJob;

    /// <summary>A cache-line-aligned copy of x for the calling thread, grown on demand (see <see cref="Gemv"/>).</summary>
    [ThreadStatic] private static AlignedFloats t_gemvInput;

    /// <summary>
    /// y (n) ← W·x + bias for a row-major W of shape n×k (one sample through a dense layer);
    /// <paramref name="bias"/> may be empty for no bias. One row at a time in eight eight-lane chains (<see cref="DotRow{TOps, T}"/>);
    /// large matrices are split by fixed row ranges across <see cref="ComputeOptions.ThreadCount"/> threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv(int n, int k, ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (n < 0 || k < 0) ThrowShape($"Gemv dimensions must be non-negative; got n={n}, k={k}.");
        if (w.Length < (long)n * k) ThrowShape($"W ({n}×{k}) needs {(long)n * k} elements but has {w.Length}.");
        if (x.Length < k) ThrowShape($"x needs {k} elements but has {x.Length}.");
        if (y.Length < n) ThrowShape($"y needs {n} elements but has {y.Length}.");
        if (!bias.IsEmpty && bias.Length < n) ThrowShape($"bias needs {n} elements but has {bias.Length}.");
        if (!SimdEnabled)
        {
            GemvReference(n, k, w, x, bias, y);
            return;
        }
        // W's rows are read once per call and x once per row: x misaligned would make every other full-width load of
        // it straddle two cache lines, so it is copied to an aligned buffer first (the values, and so the sums, are the same).
        if (k >= 64 && ((nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(x)) & 63) != 0)
        {
            if (t_gemvInput.Length < k) t_gemvInput = new AlignedFloats(Math.Max(k, 1024));
            Span<float> copy = t_gemvInput.Span[..k];
            x[..k].CopyTo(copy);
            x = copy;
        }
        fixed (float* pw = w)
        fixed (float* px = x)
        fixed (float* pb = bias)
        fixed (float* py = y)
        {
            float* biasPointer = bias.IsEmpty ? null : pb;
            int threads = WorkerPool.AvailableThreads;
            if (threads == 1 || (long)n * k < GemvParallelThreshold || n < 8)
            {
                GemvRows(0, n, k, pw, px, biasPointer, py);
                return;
            }
            GemvJob job = t_gemvJob ??= new GemvJob();
            job.Set(n, k, pw, px, biasPointer, py);
            WorkerPool.Run(job, Math.Min(threads, n / 4));
            job.Clear();
        }
    }

    /// <summary>Scalar reference twin of <see cref="Gemv"/>, accumulating in double.</summary>
    public static void GemvReference(int n, int k, ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int i = 0; i < n; i++)
        {
            double sum = bias.IsEmpty ? 0.0 : bias[i];
            for (int p = 0; p < k; p++) sum += (double)w[i * k + p] * x[p];
            y[i] = (float)sum;
        }
    }

    private static void GemvRows(int i0, int i1, int k, float* w, float* x, float* bias, float* y)
    {
        if (Vector512Enabled && Vector512.IsHardwareAccelerated) GemvRows512(i0, i1, k, w, x, bias, y);
        else if (Vector256.IsHardwareAccelerated) GemvRows<Lanes256, Vector256<float>>(i0, i1, k, w, x, bias, y);
        else GemvRows<Lanes128x2, Lanes128x2.Pair>(i0, i1, k, w, x, bias, y);
    }

    // One row at a time, so that each thread reads W as one contiguous stream: on a Zen 5 a 128×784 W in L2 is read in
    // 2.3 µs that way and in 3.4 µs as four interleaved row streams (four rows per pass, the same FMAs).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvRows<TOps, T>(int i0, int i1, int k, float* w, float* x, float* bias, float* y)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        for (int i = i0; i < i1; i++)
        {
            float sum = DotRow<TOps, T>(k, w + (long)i * k, x);
            y[i] = bias == null ? sum : sum + bias[i];
        }
    }

    /// <summary>
    /// w · x over k values in eight eight-lane chains: chain c takes values 8c..8c+7 of each block of 64, whole blocks
    /// of 16 left after the last 64 go to chains 0 and 1, the chains are added as
    /// ((c0 + c2) + (c4 + c6)) + ((c1 + c3) + (c5 + c7)) and reduced in <see cref="ILanes8{TVector}.Sum"/>'s order, and
    /// the last k mod 16 products are added one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotRow<TOps, T>(int k, float* w, float* x)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        T c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            c0 = TOps.MultiplyAdd(TOps.Load(w + p), TOps.Load(x + p), c0);
            c1 = TOps.MultiplyAdd(TOps.Load(w + p + 8), TOps.Load(x + p + 8), c1);
            c2 = TOps.MultiplyAdd(TOps.Load(w + p + 16), TOps.Load(x + p + 16), c2);
            c3 = TOps.MultiplyAdd(TOps.Load(w + p + 24), TOps.Load(x + p + 24), c3);
            c4 = TOps.MultiplyAdd(TOps.Load(w + p + 32), TOps.Load(x + p + 32), c4);
            c5 = TOps.MultiplyAdd(TOps.Load(w + p + 40), TOps.Load(x + p + 40), c5);
            c6 = TOps.MultiplyAdd(TOps.Load(w + p + 48), TOps.Load(x + p + 48), c6);
            c7 = TOps.MultiplyAdd(TOps.Load(w + p + 56), TOps.Load(x + p + 56), c7);
        }
        for (; p + 16 <= k; p += 16)
        {
            c0 = TOps.MultiplyAdd(TOps.Load(w + p), TOps.Load(x + p), c0);
            c1 = TOps.MultiplyAdd(TOps.Load(w + p + 8), TOps.Load(x + p + 8), c1);
        }
        T low = TOps.Add(TOps.Add(c0, c2), TOps.Add(c4, c6));
        T high = TOps.Add(TOps.Add(c1, c3), TOps.Add(c5, c7));
        return TOps.Sum(TOps.Add(low, high)) + DotTail(w, x, p, k);
    }

    /// <summary>
    /// <see cref="GemvRows{TOps, T}"/> with four Vector512 chains where full-rate AVX-512 pays: lanes 0–7 of chain j
    /// hold chain 2j of <see cref="DotRow{TOps, T}"/> and lanes 8–15 chain 2j + 1, added in the same order and folded to
    /// eight lanes before the same reduction, so the results are bitwise those of the Vector256 and Vector128 kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvRows512(int i0, int i1, int k, float* w, float* x, float* bias, float* y)
    {
        for (int i = i0; i < i1; i++)
        {
            float sum = DotRow512(k, w + (long)i * k, x);
            y[i] = bias == null ? sum : sum + bias[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotRow512(int k, float* w, float* x)
    {
        Vector512<float> a = default, b = default, c = default, d = default;
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.Load(w + p), Vector512.Load(x + p), a);
            b = Vector512.FusedMultiplyAdd(Vector512.Load(w + p + 16), Vector512.Load(x + p + 16), b);
            c = Vector512.FusedMultiplyAdd(Vector512.Load(w + p + 32), Vector512.Load(x + p + 32), c);
            d = Vector512.FusedMultiplyAdd(Vector512.Load(w + p + 48), Vector512.Load(x + p + 48), d);
        }
        for (; p + 16 <= k; p += 16) a = Vector512.FusedMultiplyAdd(Vector512.Load(w + p), Vector512.Load(x + p), a);
        Vector512<float> sum = (a + b) + (c + d);
        return Vector256.Sum(sum.GetLower() + sum.GetUpper()) + DotTail(w, x, p, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotTail(float* w, float* x, int p, int k)
    {
        float sum = 0;
        for (; p < k; p++) sum += w[p] * x[p];
        return sum;
    }

    private sealed class GemvJob : IParallelJob
    {
        private int _n, _k;
        private float* _w, _x, _bias, _y;

        public void Set(int n, int k, float* w, float* x, float* bias, float* y)
        {
            _n = n;
            _k = k;
            _w = w;
            _x = x;
            _bias = bias;
            _y = y;
        }

        public void Clear()
        {
            _w = null;
            _x = null;
            _bias = null;
            _y = null;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
        {
            // Fixed ranges of whole 4-row groups: the same rows go to the same part on every call.
            int groups = (_n + 3) / 4;
            int i0 = Math.Min(_n, (int)((long)groups * part / parts) * 4);
            int i1 = Math.Min(_n, (int)((long)groups * (part + 1) / parts) * 4);
            if (i1 > i0) GemvRows(i0, i1, _k, _w, _x, _bias, _y);
        }
    }
}
