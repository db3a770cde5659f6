using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralDescent.Kernels;

/// <summary>
/// Fused, single-pass update rules over a parameter's values θ, gradient g and state buffers (all of equal length),
/// with a <see cref="Vector{T}"/> body and a scalar tail that computes the same formula.
/// </summary>
internal static class OptimizerKernels
{
    private static bool UseVectors => Vector.IsHardwareAccelerated && MatrixKernels.SimdEnabled;

    /// <summary>
    /// Plain SGD: θ ← θ·(1 − ηλ) when λ ≠ 0, then θ ← (−η)·g + θ, each product and each sum rounded on its own (no
    /// fused multiply-add), as <c>TensorPrimitives.Multiply</c> and <c>TensorPrimitives.MultiplyAdd</c> compute it.
    /// Written here, fully optimized from its first call, because a training run's first epoch would otherwise run
    /// those generic methods unoptimized until the tiered JIT gets to them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd(Span<float> theta, ReadOnlySpan<float> g, float eta, float lambda)
    {
        if (g.Length < theta.Length) throw new ArgumentException($"The gradient has {g.Length} values for {theta.Length} parameters.", nameof(g));
        bool decays = lambda != 0f;
        float decay = 1f - eta * lambda, step = -eta;
        int i = 0;
        if (UseVectors && Vector512.IsHardwareAccelerated)
        {
            // θ and g stream through once, four vectors a step (as fast as TensorPrimitives.MultiplyAdd on a Zen 5:
            // 1.9 µs for 50,176 values in L2; one vector a step took 2.8–3.1 µs).
            Vector512<float> vDecay = Vector512.Create(decay), vStep = Vector512.Create(step);
            unsafe
            {
                fixed (float* t0 = theta)
                fixed (float* g0 = g)
                {
                    float* t = t0, gp = g0, end = t0 + (theta.Length & ~63);
                    for (; t < end; t += 64, gp += 64)
                    {
                        Vector512<float> a = Vector512.Load(t), b = Vector512.Load(t + 16), c = Vector512.Load(t + 32), d = Vector512.Load(t + 48);
                        if (decays)
                        {
                            a *= vDecay;
                            b *= vDecay;
                            c *= vDecay;
                            d *= vDecay;
                        }
                        (Vector512.Load(gp) * vStep + a).Store(t);
                        (Vector512.Load(gp + 16) * vStep + b).Store(t + 16);
                        (Vector512.Load(gp + 32) * vStep + c).Store(t + 32);
                        (Vector512.Load(gp + 48) * vStep + d).Store(t + 48);
                    }
                    i = theta.Length & ~63;
                }
            }
        }
        else if (UseVectors)
        {
            var vDecay = new Vector<float>(decay);
            var vStep = new Vector<float>(step);
            Span<Vector<float>> t = MemoryMarshal.Cast<float, Vector<float>>(theta);
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int k = 0; k < t.Length; k++)
            {
                Vector<float> tk = decays ? t[k] * vDecay : t[k];
                t[k] = gv[k] * vStep + tk;
            }
            i = t.Length * Vector<float>.Count;
        }
        for (; i < theta.Length; i++)
        {
            float ti = decays ? theta[i] * decay : theta[i];
            theta[i] = g[i] * step + ti;
        }
    }

    /// <summary>g′ = g + λθ; b ← μb + g′; d = nesterov ? g′ + μb : b; θ ← θ − ηd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Momentum(Span<float> theta, ReadOnlySpan<float> g, Span<float> buffer, float eta, float mu, float lambda, bool nesterov)
    {
        int i = 0;
        if (UseVectors)
        {
            var vEta = new Vector<float>(eta);
            var vMu = new Vector<float>(mu);
            var vLambda = new Vector<float>(lambda);
            Span<Vector<float>> t = MemoryMarshal.Cast<float, Vector<float>>(theta);
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            Span<Vector<float>> b = MemoryMarshal.Cast<float, Vector<float>>(buffer);
            for (int k = 0; k < t.Length; k++)
            {
                Vector<float> gk = gv[k] + vLambda * t[k];
                Vector<float> bk = vMu * b[k] + gk;
                b[k] = bk;
                t[k] -= vEta * (nesterov ? gk + vMu * bk : bk);
            }
            i = t.Length * Vector<float>.Count;
        }
        for (; i < theta.Length; i++)
        {
            float gi = g[i] + lambda * theta[i];
            float bi = mu * buffer[i] + gi;
            buffer[i] = bi;
            theta[i] -= eta * (nesterov ? gi + mu * bi : bi);
        }
    }

    /// <summary>g′ = g + λθ; s ← s + g′²; θ ← θ − η·g′/(√s + ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdaGrad(Span<float> theta, ReadOnlySpan<float> g, Span<float> sum, float eta, float lambda, float epsilon)
    {
        int i = 0;
        if (UseVectors)
        {
            var vEta = new Vector<float>(eta);
            var vLambda = new Vector<float>(lambda);
            var vEps = new Vector<float>(epsilon);
            Span<Vector<float>> t = MemoryMarshal.Cast<float, Vector<float>>(theta);
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            Span<Vector<float>> s = MemoryMarshal.Cast<float, Vector<float>>(sum);
            for (int k = 0; k < t.Length; k++)
            {
                Vector<float> gk = gv[k] + vLambda * t[k];
                Vector<float> sk = s[k] + gk * gk;
                s[k] = sk;
                t[k] -= vEta * gk / (Vector.SquareRoot(sk) + vEps);
            }
            i = t.Length * Vector<float>.Count;
        }
        for (; i < theta.Length; i++)
        {
            float gi = g[i] + lambda * theta[i];
            float si = sum[i] + gi * gi;
            sum[i] = si;
            theta[i] -= eta * gi / (MathF.Sqrt(si) + epsilon);
        }
    }

    /// <summary>g′ = g + λθ; v ← αv + (1 − α)g′²; θ ← θ − η·g′/(√v + ε).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsProp(Span<float> theta, ReadOnlySpan<float> g, Span<float> square, float eta, float alpha, float lambda, float epsilon)
    {
        int i = 0;
        if (UseVectors)
        {
            var vEta = new Vector<float>(eta);
            var vAlpha = new Vector<float>(alpha);
            var vOneMinusAlpha = new Vector<float>(1f - alpha);
            var vLambda = new Vector<float>(lambda);
            var vEps = new Vector<float>(epsilon);
            Span<Vector<float>> t = MemoryMarshal.Cast<float, Vector<float>>(theta);
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            Span<Vector<float>> v = MemoryMarshal.Cast<float, Vector<float>>(square);
            for (int k = 0; k < t.Length; k++)
            {
                Vector<float> gk = gv[k] + vLambda * t[k];
                Vector<float> vk = vAlpha * v[k] + vOneMinusAlpha * gk * gk;
                v[k] = vk;
                t[k] -= vEta * gk / (Vector.SquareRoot(vk) + vEps);
            }
            i = t.Length * Vector<float>.Count;
        }
        for (; i < theta.Length; i++)
        {
            float gi = g[i] + lambda * theta[i];
            float vi = alpha * square[i] + (1f - alpha) * gi * gi;
            square[i] = vi;
            theta[i] -= eta * gi / (MathF.Sqrt(vi) + epsilon);
        }
    }

    /// <summary>
    /// Adam / AdamW. With <paramref name="decoupled"/>: θ ← θ(1 − ηλ) and g′ = g; otherwise g′ = g + λθ.
    /// Then m ← β₁m + (1 − β₁)g′; v ← β₂v + (1 − β₂)g′²; θ ← θ − (η/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam(Span<float> theta, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float eta, float beta1, float beta2, float epsilon, float lambda, bool decoupled, long step)
    {
        float stepSize = (float)(eta / (1.0 - Math.Pow(beta1, step)));
        float inverseRootCorrection2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(beta2, step)));
        float decay = decoupled ? 1f - eta * lambda : 1f;
        float l2 = decoupled ? 0f : lambda;
        int i = 0;
        if (UseVectors && MatrixKernels.Vector512Enabled)
        {
            // Sixteen values per step where 512-bit vectors pay (the same probe as the GEMM kernels): the square root and
            // the division set the pace, and each Vector512 instruction does twice the work. Every operation is the
            // element-wise one of the loop below and of the scalar tail, so the results are the same bits.
            Vector512<float> vB1 = Vector512.Create(beta1), vB1c = Vector512.Create(1f - beta1), vB2 = Vector512.Create(beta2);
            Vector512<float> vB2c = Vector512.Create(1f - beta2), vEps = Vector512.Create(epsilon), vStep = Vector512.Create(stepSize);
            Vector512<float> vRoot = Vector512.Create(inverseRootCorrection2), vDecay = Vector512.Create(decay), vL2 = Vector512.Create(l2);
            ref float t0 = ref MemoryMarshal.GetReference(theta), m0 = ref MemoryMarshal.GetReference(m), v0 = ref MemoryMarshal.GetReference(v);
            ref float g0 = ref MemoryMarshal.GetReference(g);
            for (; i <= theta.Length - 16; i += 16)
            {
                Vector512<float> tk = Vector512.LoadUnsafe(ref t0, (nuint)i);
                Vector512<float> gk = Vector512.LoadUnsafe(ref g0, (nuint)i) + vL2 * tk;
                Vector512<float> mk = vB1 * Vector512.LoadUnsafe(ref m0, (nuint)i) + vB1c * gk;
                Vector512<float> vk = vB2 * Vector512.LoadUnsafe(ref v0, (nuint)i) + vB2c * gk * gk;
                mk.StoreUnsafe(ref m0, (nuint)i);
                vk.StoreUnsafe(ref v0, (nuint)i);
                (vDecay * tk - vStep * mk / (Vector512.Sqrt(vk) * vRoot + vEps)).StoreUnsafe(ref t0, (nuint)i);
            }
        }
        else if (UseVectors)
        {
            var vB1 = new Vector<float>(beta1);
            var vB1c = new Vector<float>(1f - beta1);
            var vB2 = new Vector<float>(beta2);
            var vB2c = new Vector<float>(1f - beta2);
            var vEps = new Vector<float>(epsilon);
            var vStep = new Vector<float>(stepSize);
            var vRoot = new Vector<float>(inverseRootCorrection2);
            var vDecay = new Vector<float>(decay);
            var vL2 = new Vector<float>(l2);
            Span<Vector<float>> t = MemoryMarshal.Cast<float, Vector<float>>(theta);
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            Span<Vector<float>> mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            Span<Vector<float>> vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < t.Length; k++)
            {
                Vector<float> tk = t[k];
                Vector<float> gk = gv[k] + vL2 * tk;
                Vector<float> mk = vB1 * mv[k] + vB1c * gk;
                Vector<float> vk = vB2 * vv[k] + vB2c * gk * gk;
                mv[k] = mk;
                vv[k] = vk;
                t[k] = vDecay * tk - vStep * mk / (Vector.SquareRoot(vk) * vRoot + vEps);
            }
            i = t.Length * Vector<float>.Count;
        }
        for (; i < theta.Length; i++)
        {
            float ti = theta[i];
            float gi = g[i] + l2 * ti;
            float mi = beta1 * m[i] + (1f - beta1) * gi;
            float vi = beta2 * v[i] + (1f - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            theta[i] = decay * ti - stepSize * mi / (MathF.Sqrt(vi) * inverseRootCorrection2 + epsilon);
        }
    }
}
