using NeuralDescent.Kernels;

namespace NeuralDescent.Tests.Kernels;

[Collection(SimdSwitchCollection.Name)]
public class StreamingStoresTests
{
    [Fact]
    public void ScaleBytesAndCopy_WriteExactlyTheOrdinaryValues_AtEveryLengthAndAlignment()
    {
        var random = new Random(11);
        var bytes = new byte[200];
        random.NextBytes(bytes);
        float[] floats = Enumerable.Range(0, 200).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        const float scale = 1f / 255f;
        bool saved = MatrixKernels.SimdEnabled;
        try
        {
            // With SIMD off (and on ARM64) the same values come from ordinary stores.
            foreach (bool simd in new[] { true, false })
            foreach (int length in new[] { 0, 1, 7, 15, 16, 17, 33, 63, 64, 65, 100, 150 })
            foreach (int offset in Enumerable.Range(0, 17))
            {
                MatrixKernels.SimdEnabled = simd;
                // NaN around the destination: nothing outside it may be written.
                float[] scaled = Enumerable.Repeat(float.NaN, length + 40).ToArray();
                float[] copied = (float[])scaled.Clone();
                StreamingStores.ScaleBytes(bytes.AsSpan(3, length), scale, scaled.AsSpan(offset, length));
                StreamingStores.Copy(floats.AsSpan(5, length), copied.AsSpan(offset, length));
                StreamingStores.Fence();
                for (int i = 0; i < scaled.Length; i++)
                {
                    bool inside = i >= offset && i < offset + length;
                    float expectedScaled = inside ? bytes[3 + i - offset] * scale : float.NaN;
                    float expectedCopy = inside ? floats[5 + i - offset] : float.NaN;
                    BitConverter.SingleToInt32Bits(scaled[i]).Should().Be(BitConverter.SingleToInt32Bits(expectedScaled), $"scaled value {i} of {length} at offset {offset}, SIMD {simd}");
                    BitConverter.SingleToInt32Bits(copied[i]).Should().Be(BitConverter.SingleToInt32Bits(expectedCopy), $"copied value {i} of {length} at offset {offset}, SIMD {simd}");
                }
            }
        }
        finally
        {
            MatrixKernels.SimdEnabled = saved;
        }
    }

    [Fact]
    public void ScaleBytesAndCopy_RejectADestinationShorterThanTheSource()
    {
        FluentActions.Invoking(() => StreamingStores.ScaleBytes(new byte[10], 1f, new float[9])).Should().Throw<ArgumentException>().WithMessage("*9*10*");
        FluentActions.Invoking(() => StreamingStores.Copy(new float[10], new float[9])).Should().Throw<ArgumentException>().WithMessage("*9*10*");
    }
}
