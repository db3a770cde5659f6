using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Kernels;

/// <summary>
/// Element-wise activation kernels and their derivatives over spans of equal length, softmax rows, and the per-batch
/// element-wise steps around them (the cost gradient (y − t)/n, byte pixels to floats).
/// The backward passes that <see cref="TensorPrimitives"/> has no single call for are written once here with a
/// <see cref="Vector{T}"/> body (256 bits on x64, 128 on ARM64) and a scalar tail computing the same expression, so
/// results do not depend on the vector width; the sigmoid reproduces <c>TensorPrimitives.Sigmoid</c>'s bits, compiled
/// optimized from its first call (tiered compilation runs the generic library method unoptimized at first).
/// All kernels allow <c>destination</c> to alias an input.
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>
    /// y = σ(x) = 1 / (1 + e⁻ˣ), as <c>TensorPrimitives.Sigmoid</c> computes it: with four values or more every element
    /// goes through the vector exponential (the widest accelerated vectors, the last one overlapping the one before it),
    /// below four through <see cref="MathF.Exp"/>.
    /// </summary>
    /// <remarks>
    /// The library call runs unoptimized for the first few thousand small batches of a process under tiered
    /// compilation; this one is compiled optimized at its first call. The vector exponential gives every lane the same
    /// bits whatever the width, so the result does not depend on the CPU's vector width.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x.Length, x.Length, y.Length);
        int n = x.Length;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            // The last vector is computed before anything is stored: y may be x itself.
            nuint last = (nuint)(n - Vector512<float>.Count);
            Vector512<float> end = Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-Vector512.LoadUnsafe(ref rx, last)));
            for (nuint i = 0; i < last; i += (nuint)Vector512<float>.Count)
                (Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-Vector512.LoadUnsafe(ref rx, i)))).StoreUnsafe(ref ry, i);
            end.StoreUnsafe(ref ry, last);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            nuint last = (nuint)(n - Vector256<float>.Count);
            Vector256<float> end = Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-Vector256.LoadUnsafe(ref rx, last)));
            for (nuint i = 0; i < last; i += (nuint)Vector256<float>.Count)
                (Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-Vector256.LoadUnsafe(ref rx, i)))).StoreUnsafe(ref ry, i);
            end.StoreUnsafe(ref ry, last);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            nuint last = (nuint)(n - Vector128<float>.Count);
            Vector128<float> end = Vector128<float>.One / (Vector128<float>.One + Vector128.Exp(-Vector128.LoadUnsafe(ref rx, last)));
            for (nuint i = 0; i < last; i += (nuint)Vector128<float>.Count)
                (Vector128<float>.One / (Vector128<float>.One + Vector128.Exp(-Vector128.LoadUnsafe(ref rx, i)))).StoreUnsafe(ref ry, i);
            end.StoreUnsafe(ref ry, last);
        }
        else
        {
            for (int i = 0; i < n; i++) y[i] = 1f / (1f + MathF.Exp(-x[i]));
        }
    }

    /// <summary>dx = dy ⊙ y ⊙ (1 − y), the sigmoid derivative written with the forward output y = σ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref float ry = ref MemoryMarshal.GetReference(y);
            ref float rdy = ref MemoryMarshal.GetReference(dy);
            ref float rdx = ref MemoryMarshal.GetReference(dx);
            Vector<float> one = Vector.Create(1f);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> v = Vector.LoadUnsafe(ref ry, (nuint)i);
                (Vector.LoadUnsafe(ref rdy, (nuint)i) * v * (one - v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
    }

    /// <summary>dx = dy ⊙ (1 − y²), the tanh derivative written with the forward output y = tanh(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref float ry = ref MemoryMarshal.GetReference(y);
            ref float rdy = ref MemoryMarshal.GetReference(dy);
            ref float rdx = ref MemoryMarshal.GetReference(dx);
            Vector<float> one = Vector.Create(1f);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> v = Vector.LoadUnsafe(ref ry, (nuint)i);
                (Vector.LoadUnsafe(ref rdy, (nuint)i) * (one - v * v)).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
    }

    /// <summary>
    /// d = (a − b)·s: the gradient of the quadratic and cross-entropy costs, (y − t)/n. The difference is rounded to
    /// float before the product, so the bits are those of a subtraction pass followed by a scaling pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float scale, Span<float> d)
    {
        CheckLengths(a.Length, b.Length, d.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref float ra = ref MemoryMarshal.GetReference(a);
            ref float rb = ref MemoryMarshal.GetReference(b);
            ref float rd = ref MemoryMarshal.GetReference(d);
            Vector<float> s = Vector.Create(scale);
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
                ((Vector.LoadUnsafe(ref ra, (nuint)i) - Vector.LoadUnsafe(ref rb, (nuint)i)) * s).StoreUnsafe(ref rd, (nuint)i);
        }
        for (; i < a.Length; i++) d[i] = (a[i] - b[i]) * scale;
    }

    /// <summary>
    /// destination[i] = float(source[i])·scale: a row of byte pixels scaled to floats. The conversion is exact, so the
    /// bits are those of a conversion pass followed by a scaling pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleBytes(ReadOnlySpan<byte> source, float scale, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException($"The destination holds {destination.Length} values, fewer than the {source.Length} source bytes.", nameof(destination));
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref byte rs = ref MemoryMarshal.GetReference(source);
            ref float rd = ref MemoryMarshal.GetReference(destination);
            Vector<float> s = Vector.Create(scale);
            int lanes = Vector<float>.Count;
            for (; i <= source.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector.Widen(Vector.LoadUnsafe(ref rs, (nuint)i), out Vector<ushort> low, out Vector<ushort> high);
                Vector.Widen(low, out Vector<uint> q0, out Vector<uint> q1);
                Vector.Widen(high, out Vector<uint> q2, out Vector<uint> q3);
                (Vector.ConvertToSingle(q0) * s).StoreUnsafe(ref rd, (nuint)i);
                (Vector.ConvertToSingle(q1) * s).StoreUnsafe(ref rd, (nuint)(i + lanes));
                (Vector.ConvertToSingle(q2) * s).StoreUnsafe(ref rd, (nuint)(i + 2 * lanes));
                (Vector.ConvertToSingle(q3) * s).StoreUnsafe(ref rd, (nuint)(i + 3 * lanes));
            }
        }
        for (; i < source.Length; i++) destination[i] = source[i] * scale;
    }

    /// <summary>y = x for x &gt; 0, else α·x (α = 0 is ReLU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReluForward(ReadOnlySpan<float> x, Span<float> y, float alpha)
    {
        CheckLengths(x.Length, x.Length, y.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float ry = ref MemoryMarshal.GetReference(y);
            Vector<float> a = Vector.Create(alpha);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> v = Vector.LoadUnsafe(ref rx, (nuint)i);
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * a).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] > 0f ? x[i] : alpha * x[i];
    }

    /// <summary>dx = dy where x &gt; 0, else α·dy (the subgradient at 0 is taken as α).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float alpha)
    {
        CheckLengths(x.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
        {
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float rdy = ref MemoryMarshal.GetReference(dy);
            ref float rdx = ref MemoryMarshal.GetReference(dx);
            Vector<float> a = Vector.Create(alpha);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> g = Vector.LoadUnsafe(ref rdy, (nuint)i);
                Vector<int> positive = Vector.GreaterThan(Vector.LoadUnsafe(ref rx, (nuint)i), Vector<float>.Zero);
                Vector.ConditionalSelect(positive, g, g * a).StoreUnsafe(ref rdx, (nuint)i);
            }
        }
        for (; i < x.Length; i++) dx[i] = x[i] > 0f ? dy[i] : alpha * dy[i];
    }

    /// <summary>
    /// Row-wise stable softmax of a rows×width matrix: yᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
    /// Shifting by the row maximum keeps every exponent ≤ 0, so logits of ±1000 give exact 0/1 instead of NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxForward(ReadOnlySpan<float> x, Span<float> y, int rows, int width)
    {
        CheckLengths(x.Length, x.Length, y.Length);
        if (width >= Vector256<float>.Count && width <= 2 * Vector256<float>.Count && MatrixKernels.SimdEnabled)
        {
            if (Vector256.IsHardwareAccelerated) SoftmaxRows8To16(x, y, rows, width);
            else SoftmaxRows8To16Vector128(x, y, rows, width);
            return;
        }
        // Three passes over the whole batch instead of five calls per row: shift each row by its max,
        // one vectorized exp over everything, then normalize each row. Narrow rows (class outputs) use plain loops,
        // which beat a library call per row at these widths.
        bool narrow = width <= 32;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * width, width);
            Span<float> yr = y.Slice(r * width, width);
            if (narrow)
            {
                float max = xr[0];
                for (int i = 1; i < xr.Length; i++) max = MathF.Max(max, xr[i]);
                for (int i = 0; i < xr.Length; i++) yr[i] = xr[i] - max;
            }
            else
            {
                TensorPrimitives.Subtract(xr, TensorPrimitives.Max(xr), yr);
            }
        }
        Span<float> all = y[..(rows * width)];
        TensorPrimitives.Exp(all, all);
        for (int r = 0; r < rows; r++)
        {
            Span<float> yr = y.Slice(r * width, width);
            if (narrow)
            {
                float sum = 0;
                for (int i = 0; i < yr.Length; i++) sum += yr[i];
                float inverse = 1f / sum;
                for (int i = 0; i < yr.Length; i++) yr[i] *= inverse;
            }
            else
            {
                TensorPrimitives.Multiply(yr, 1f / ReductionKernels.Sum(yr), yr);
            }
        }
    }

    /// <summary>
    /// Softmax of rows 8 to 16 wide (class outputs such as MNIST's 10), one row in two Vector256 registers: the row's
    /// first eight values and its last eight (overlapping when the width is below 16). The maximum ignores the overlap;
    /// the sum masks the doubled lanes out of the second vector. About three times faster than the general path at width 10
    /// (10,000 rows: 0.66 → 0.23 ms).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxRows8To16(ReadOnlySpan<float> x, Span<float> y, int rows, int width)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int second = width - Vector256<float>.Count;
        // Lanes of the second vector that the first one does not already hold: index ≥ 16 − width.
        Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f), Vector256.Create((float)(2 * Vector256<float>.Count - width)));
        for (int r = 0; r < rows; r++)
        {
            nuint start = (nuint)r * (nuint)width;
            Vector256<float> v0 = Vector256.LoadUnsafe(ref rx, start);
            Vector256<float> v1 = Vector256.LoadUnsafe(ref rx, start + (nuint)second);
            Vector256<float> max = Vector256.Max(v0, v1);
            max = Vector256.Max(max, Vector256.Shuffle(max, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
            max = Vector256.Max(max, Vector256.Shuffle(max, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
            max = Vector256.Max(max, Vector256.Shuffle(max, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
            Vector256<float> e0 = Vector256.Exp(v0 - max);
            Vector256<float> e1 = Vector256.Exp(v1 - max);
            float sum = Vector256.Sum(e0 + (e1 & fresh));
            Vector256<float> inverse = Vector256.Create(1f / sum);
            // Store the second vector first: in place (x = y) both loads have happened, and the overlap gets equal values.
            (e1 * inverse).StoreUnsafe(ref ry, start + (nuint)second);
            (e0 * inverse).StoreUnsafe(ref ry, start);
        }
    }

    /// <summary>
    /// <see cref="SoftmaxRows8To16"/> for ARM64: each of the two eight-float vectors as two <c>Vector128</c> halves. The
    /// maximum is exact in any order, the exponentials are per lane, and the sum is reduced as <c>Vector256.Sum</c> does
    /// (((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))), so both give bitwise-equal rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxRows8To16Vector128(ReadOnlySpan<float> x, Span<float> y, int rows, int width)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        nuint second = (nuint)(width - 8);
        Vector128<float> skip = Vector128.Create((float)(16 - width));
        Vector128<float> freshLo = Vector128.GreaterThanOrEqual(Vector128.Create(0f, 1f, 2f, 3f), skip);
        Vector128<float> freshHi = Vector128.GreaterThanOrEqual(Vector128.Create(4f, 5f, 6f, 7f), skip);
        for (int r = 0; r < rows; r++)
        {
            nuint start = (nuint)r * (nuint)width;
            Vector128<float> a0 = Vector128.LoadUnsafe(ref rx, start), a1 = Vector128.LoadUnsafe(ref rx, start + 4);
            Vector128<float> b0 = Vector128.LoadUnsafe(ref rx, start + second), b1 = Vector128.LoadUnsafe(ref rx, start + second + 4);
            Vector128<float> max = Vector128.Max(Vector128.Max(a0, a1), Vector128.Max(b0, b1));
            max = Vector128.Max(max, Vector128.Shuffle(max, Vector128.Create(2, 3, 0, 1)));
            max = Vector128.Max(max, Vector128.Shuffle(max, Vector128.Create(1, 0, 3, 2)));
            Vector128<float> e0 = Vector128.Exp(a0 - max), e1 = Vector128.Exp(a1 - max);
            Vector128<float> f0 = Vector128.Exp(b0 - max), f1 = Vector128.Exp(b1 - max);
            float sum = Vector128.Sum(e0 + (f0 & freshLo)) + Vector128.Sum(e1 + (f1 & freshHi));
            Vector128<float> inverse = Vector128.Create(1f / sum);
            (f0 * inverse).StoreUnsafe(ref ry, start + second);
            (f1 * inverse).StoreUnsafe(ref ry, start + second + 4);
            (e0 * inverse).StoreUnsafe(ref ry, start);
            (e1 * inverse).StoreUnsafe(ref ry, start + 4);
        }
    }

    /// <summary>Row-wise softmax backward: dxᵢ = yᵢ · (dyᵢ − Σⱼ dyⱼ yⱼ), the Jacobian-vector product of softmax.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int width)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> yr = y.Slice(r * width, width);
            ReadOnlySpan<float> dyr = dy.Slice(r * width, width);
            Span<float> dxr = dx.Slice(r * width, width);
            float dot = ReductionKernels.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, dot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }

    /// <summary>Log-sum-exp of one row, computed as max + ln Σ exp(x − max) in double for the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max;
        if (x.Length <= ReductionKernels.ShortRow && !x.IsEmpty)
        {
            // Class outputs: a plain loop, as TensorPrimitives.Max would give (NaN if any, +0 over −0).
            max = x[0];
            for (int i = 1; i < x.Length; i++) max = MathF.Max(max, x[i]);
        }
        else
        {
            max = TensorPrimitives.Max(x);
        }
        double sum = 0;
        foreach (float v in x) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>sums (length width) += Σ over rows of a rows×width matrix (the bias gradient).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateColumnSums(ReadOnlySpan<float> matrix, Span<float> sums, int rows, int width)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, matrix.Slice(r * width, width), sums);
    }

    /// <summary>
    /// The start of a dense layer's backward pass over G = ∂C/∂Z (rows × width): with <paramref name="reluOutput"/>
    /// (the layer's output after a fused ReLU) G = dy where the output is positive and 0·dy elsewhere, written to
    /// <paramref name="gradient"/> (which may be <paramref name="dy"/> itself); without it G = dy and
    /// <paramref name="gradient"/> may be empty. Then sums[j] += Σ_rows G[·, j], row by row. The same bits as <see cref="LeakyReluBackward"/> with slope 0 followed by
    /// <see cref="AccumulateColumnSums"/>, in one pass.
    /// </summary>
    /// <remarks>
    /// From <see cref="ColumnSplitElements"/> values on, the columns are split across the kernel threads in the ranges of
    /// 16-column panels that a GEMM split by columns gives each thread, so each core reads the part of dy and of the
    /// ReLU output that it wrote (a W3 step, against the ReLU backward and the column sums on the calling thread:
    /// 20–26 µs less on a Zen 5).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ReluBackwardAndColumnSums(ReadOnlySpan<float> reluOutput, ReadOnlySpan<float> dy, Span<float> gradient, Span<float> sums, int rows, int width)
    {
        long length = (long)rows * width;
        if (dy.Length < length || sums.Length < width || (!reluOutput.IsEmpty && (reluOutput.Length < length || gradient.Length < length)))
            throw new ArgumentException($"Gradient prologue spans too short for {rows}×{width}: dy {dy.Length}, gradient {gradient.Length}, sums {sums.Length}, ReLU output {reluOutput.Length}.");
        fixed (float* px = reluOutput)
        fixed (float* pdy = dy)
        fixed (float* pg = gradient)
        fixed (float* ps = sums)
        {
            float* x = reluOutput.IsEmpty ? null : px;
            int threads = WorkerPool.AvailableThreads;
            int panels = (width + 15) / 16;
            if (threads == 1 || length < ColumnSplitElements || panels < 2)
            {
                ColumnPrologue(x, pdy, pg, ps, rows, width, 0, width);
                return;
            }
            PrologueJob job = t_prologueJob ??= new PrologueJob();
            job.Set(x, pdy, pg, ps, rows, width);
            try
            {
                WorkerPool.Run(job, Math.Min(threads, panels));
            }
            finally
            {
                job.Set(null, null, null, null, 0, 0);
            }
        }
    }

    /// <summary>Values (rows × width) from which <see cref="ReluBackwardAndColumnSums"/> splits its columns across the kernel threads.</summary>
    internal const int ColumnSplitElements = 1 << 15;

    [ThreadStatic] private static PrologueJob? t_prologueJob;

    private sealed unsafe class PrologueJob : IParallelJob
    {
        private float* _x, _dy, _g, _sums;
        private int _rows, _width;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Set(float* x, float* dy, float* g, float* sums, int rows, int width)
        {
            _x = x;
            _dy = dy;
            _g = g;
            _sums = sums;
            _rows = rows;
            _width = width;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
        {
            // The column ranges of a GEMM split by columns (GemmJob): whole 16-column panels.
            int panels = (_width + 15) / 16;
            int j0 = Math.Min(_width, (int)((long)panels * part / parts) * 16);
            int j1 = Math.Min(_width, (int)((long)panels * (part + 1) / parts) * 16);
            if (j1 > j0) ColumnPrologue(_x, _dy, _g, _sums, _rows, _width, j0, j1);
        }
    }

    /// <summary>Columns [j0, j1) of <see cref="ReluBackwardAndColumnSums"/>; x null for no ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ColumnPrologue(float* x, float* dy, float* g, float* sums, int rows, int width, int j0, int j1)
    {
        for (int r = 0; r < rows; r++)
        {
            long row = (long)r * width;
            int j = j0;
            if (Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled)
            {
                for (; j <= j1 - Vector<float>.Count; j += Vector<float>.Count)
                {
                    Vector<float> v = Vector.Load(dy + row + j);
                    if (x != null)
                    {
                        Vector<int> positive = Vector.GreaterThan(Vector.Load(x + row + j), Vector<float>.Zero);
                        v = Vector.ConditionalSelect(positive, v, v * Vector<float>.Zero);
                        v.Store(g + row + j);
                    }
                    (Vector.Load(sums + j) + v).Store(sums + j);
                }
            }
            for (; j < j1; j++)
            {
                float v = dy[row + j];
                if (x != null)
                {
                    v = x[row + j] > 0f ? v : 0f * v;
                    g[row + j] = v;
                }
                sums[j] += v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckLengths(int a, int b, int destination)
    {
        if (a != b || destination < a)
            throw new ArgumentException($"Element-wise kernel spans differ in length: {a}, {b} and destination {destination}.");
    }
}
