using System.Numerics.Tensors;

namespace NeuralDescent.Kernels;

internal static partial class MatrixKernels
{
    /// <summary>
    /// y (n) ← W·x + bias for a row-major W of shape n×k (one sample through a dense layer);
    /// <paramref name="bias"/> may be empty for no bias.
    /// </summary>
    public static void Gemv(int n, int k, ReadOnlySpan<float> w, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (w.Length < (long)n * k) ThrowShape($"W ({n}×{k}) needs {(long)n * k} elements but has {w.Length}.");
        if (x.Length < k) ThrowShape($"x needs {k} elements but has {x.Length}.");
        if (y.Length < n) ThrowShape($"y needs {n} elements but has {y.Length}.");
        if (!bias.IsEmpty && bias.Length < n) ThrowShape($"bias needs {n} elements but has {bias.Length}.");
        if (!SimdEnabled)
        {
            GemvReference(n, k, w, x, bias, y);
            return;
        }
        x = x[..k];
        for (int i = 0; i < n; i++)
        {
            float dot = TensorPrimitives.Dot(w.Slice(i * k, k), x);
            y[i] = bias.IsEmpty ? dot : dot + bias[i];
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
}
