using NeuralDescent.Kernels;
using NeuralDescent.Tests.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Optimizers;

[Collection(SimdSwitchCollection.Name)]
public class OptimizerKernelTests
{
    [Theory]
    [InlineData(0f)]
    [InlineData(0.01f)]
    public void Sgd_VectorAndScalarPaths_GiveTheBitsOfTheUnfusedDefinition(float lambda)
    {
        const int n = 16 * 37 + 11; // whole vectors, then a scalar tail
        float[] g = Rand.Floats(n, 71);
        const float eta = 0.1f;
        // θ·(1 − ηλ), rounded, then (−η)·g rounded and added: two roundings per step, no fused multiply-add.
        float[] expected = Rand.Floats(n, 72);
        for (int i = 0; i < n; i++)
        {
            float decayed = lambda != 0f ? expected[i] * (1f - eta * lambda) : expected[i];
            float product = g[i] * -eta;
            expected[i] = product + decayed;
        }
        bool saved = MatrixKernels.SimdEnabled;
        try
        {
            foreach (bool simd in new[] { true, false })
            {
                MatrixKernels.SimdEnabled = simd;
                float[] theta = Rand.Floats(n, 72);
                OptimizerKernels.Sgd(theta, g, eta, lambda);
                theta.Select(BitConverter.SingleToInt32Bits).Should().Equal(expected.Select(BitConverter.SingleToInt32Bits), $"SIMD {simd}");
            }
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Theory]
    [InlineData(false, 0f)]
    [InlineData(false, 0.01f)]
    [InlineData(true, 0.01f)]
    public void Adam_Vector512_Vector_AndScalarPaths_GiveTheSameBits(bool decoupled, float lambda)
    {
        const int n = 16 * 37 + 11; // whole Vector512 and Vector256 steps, then a scalar tail
        float[] Run(bool simd, bool wide)
        {
            bool savedSimd = MatrixKernels.SimdEnabled, savedWide = MatrixKernels.Vector512Enabled;
            try
            {
                MatrixKernels.SimdEnabled = simd;
                MatrixKernels.Vector512Enabled = wide;
                float[] theta = Rand.Floats(n, 61), m = new float[n], v = new float[n];
                for (long step = 1; step <= 3; step++)
                {
                    float[] g = Rand.Floats(n, 62 + (ulong)step);
                    OptimizerKernels.Adam(theta, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, lambda, decoupled, step);
                }
                return [.. theta, .. m, .. v];
            }
            finally
            {
                MatrixKernels.SimdEnabled = savedSimd;
                MatrixKernels.Vector512Enabled = savedWide;
            }
        }
        float[] scalar = Run(simd: false, wide: false);
        Run(simd: true, wide: false).Select(BitConverter.SingleToInt32Bits).Should().Equal(scalar.Select(BitConverter.SingleToInt32Bits), "Vector<T>");
        Run(simd: true, wide: true).Select(BitConverter.SingleToInt32Bits).Should().Equal(scalar.Select(BitConverter.SingleToInt32Bits), "Vector512");
    }
}
