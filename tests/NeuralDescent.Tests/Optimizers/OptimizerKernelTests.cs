using NeuralDescent.Kernels;
using NeuralDescent.Tests.Kernels;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Optimizers;

[Collection(SimdSwitchCollection.Name)]
public class OptimizerKernelTests
{
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
