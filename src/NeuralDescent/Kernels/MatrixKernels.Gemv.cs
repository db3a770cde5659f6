using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

internal static unsafe partial class MatrixKernels
{
    /// <summary>GEMV work below this many multiply-adds (n·k) stays on one thread.</summary>
    internal const long GemvParallelThreshold = 1L << 16;

    [ThreadStatic] private static GemvJob? t_gemvJob;

    /// <summary>
    /// y (n) ← W·x + bias for a row-major W of shape n×k (one sample through a dense layer);
    /// <paramref name="bias"/> may be empty for no bias. Four rows at a time, two eight-lane accumulators per row (<see cref="ILanes8{TVector}"/>);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvRows<TOps, T>(int i0, int i1, int k, float* w, float* x, float* bias, float* y)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        int i = i0;
        for (; i + 4 <= i1; i += 4) Dot4<TOps, T>(k, w + (long)i * k, k, x, bias == null ? null : bias + i, y + i);
        for (; i < i1; i++)
        {
            float sum = Dot1<TOps, T>(k, w + (long)i * k, x);
            y[i] = bias == null ? sum : sum + bias[i];
        }
    }

    /// <summary>One row of w · x over k values: two eight-lane chains and a scalar tail (the rows left over after Dot4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1<TOps, T>(int k, float* w, float* x)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        T a0 = default, a1 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            a0 = TOps.MultiplyAdd(TOps.Load(w + p), TOps.Load(x + p), a0);
            a1 = TOps.MultiplyAdd(TOps.Load(w + p + 8), TOps.Load(x + p + 8), a1);
        }
        return TOps.Sum(TOps.Add(a0, a1)) + DotTail(w, x, p, k);
    }

    /// <summary>y[0..4] = rows 0..3 of w (row stride ldw) · x, each over k values (+ bias when not null): eight independent eight-lane chains.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot4<TOps, T>(int k, float* w, int ldw, float* x, float* bias, float* y)
        where TOps : ILanes8<T>
        where T : unmanaged
    {
        float* w1 = w + ldw, w2 = w + 2L * ldw, w3 = w + 3L * ldw;
        T a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            T x0 = TOps.Load(x + p), x1 = TOps.Load(x + p + 8);
            a0 = TOps.MultiplyAdd(TOps.Load(w + p), x0, a0);
            a1 = TOps.MultiplyAdd(TOps.Load(w + p + 8), x1, a1);
            b0 = TOps.MultiplyAdd(TOps.Load(w1 + p), x0, b0);
            b1 = TOps.MultiplyAdd(TOps.Load(w1 + p + 8), x1, b1);
            c0 = TOps.MultiplyAdd(TOps.Load(w2 + p), x0, c0);
            c1 = TOps.MultiplyAdd(TOps.Load(w2 + p + 8), x1, c1);
            d0 = TOps.MultiplyAdd(TOps.Load(w3 + p), x0, d0);
            d1 = TOps.MultiplyAdd(TOps.Load(w3 + p + 8), x1, d1);
        }
        float s0 = TOps.Sum(TOps.Add(a0, a1)) + DotTail(w, x, p, k);
        float s1 = TOps.Sum(TOps.Add(b0, b1)) + DotTail(w1, x, p, k);
        float s2 = TOps.Sum(TOps.Add(c0, c1)) + DotTail(w2, x, p, k);
        float s3 = TOps.Sum(TOps.Add(d0, d1)) + DotTail(w3, x, p, k);
        StoreFour(s0, s1, s2, s3, bias, y);
    }

    /// <summary>
    /// <see cref="GemvRows{TOps, T}"/> with one Vector512 accumulator per row where full-rate AVX-512 pays: lane j of it
    /// is the sum lane j (j &lt; 8) or j − 8 of the two eight-lane accumulators would hold, and its halves are added
    /// before the same eight-lane reduction, so the results are bitwise those of the Vector256 and Vector128 kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemvRows512(int i0, int i1, int k, float* w, float* x, float* bias, float* y)
    {
        int i = i0;
        for (; i + 4 <= i1; i += 4) Dot4Vector512(k, w + (long)i * k, k, x, bias == null ? null : bias + i, y + i);
        for (; i < i1; i++)
        {
            float sum = Dot1<Lanes256, Vector256<float>>(k, w + (long)i * k, x);
            y[i] = bias == null ? sum : sum + bias[i];
        }
    }

    /// <summary>y[0..4] = rows 0..3 of w · x (+ bias): four Vector512 chains, folded to eight lanes as in <see cref="Dot4{TOps, T}"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Dot4Vector512(int k, float* w, int ldw, float* x, float* bias, float* y)
    {
        float* w1 = w + ldw, w2 = w + 2L * ldw, w3 = w + 3L * ldw;
        Vector512<float> a = default, b = default, c = default, d = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            Vector512<float> xv = Vector512.Load(x + p);
            a = Vector512.FusedMultiplyAdd(Vector512.Load(w + p), xv, a);
            b = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + p), xv, b);
            c = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + p), xv, c);
            d = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + p), xv, d);
        }
        float s0 = Vector256.Sum(a.GetLower() + a.GetUpper()) + DotTail(w, x, p, k);
        float s1 = Vector256.Sum(b.GetLower() + b.GetUpper()) + DotTail(w1, x, p, k);
        float s2 = Vector256.Sum(c.GetLower() + c.GetUpper()) + DotTail(w2, x, p, k);
        float s3 = Vector256.Sum(d.GetLower() + d.GetUpper()) + DotTail(w3, x, p, k);
        StoreFour(s0, s1, s2, s3, bias, y);
    }

    /// <summary>y[0..4] = the four row sums (+ bias[0..4] when not null): the epilogue of both four-row kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFour(float s0, float s1, float s2, float s3, float* bias, float* y)
    {
        if (bias != null)
        {
            s0 += bias[0];
            s1 += bias[1];
            s2 += bias[2];
            s3 += bias[3];
        }
        y[0] = s0;
        y[1] = s1;
        y[2] = s2;
        y[3] = s3;
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
