using NeuralDescent.Data;
using NeuralDescent.Tests.Kernels;

namespace NeuralDescent.Tests.Data;

[Collection(SimdSwitchCollection.Name)]
public class DatasetCopyTests
{
    private const int Inputs = 37, Classes = 7, Samples = 300;

    /// <summary>Byte pixels scaled by 1/255 with one-hot labels; the expected float rows alongside.</summary>
    private static (Dataset Data, float[] Inputs, float[] Targets) Bytes()
    {
        var random = new Random(5);
        var pixels = new byte[Samples * Inputs];
        random.NextBytes(pixels);
        int[] labels = Enumerable.Range(0, Samples).Select(_ => random.Next(Classes)).ToArray();
        float[] targets = new float[Samples * Classes];
        for (int i = 0; i < Samples; i++) targets[i * Classes + labels[i]] = 1f;
        return (Dataset.FromBytes(pixels, Inputs, labels, Classes), pixels.Select(p => p * (1f / 255f)).ToArray(), targets);
    }

    private static (Dataset Data, float[] Inputs, float[] Targets) Floats()
    {
        var random = new Random(6);
        float[] values = Enumerable.Range(0, Samples * Inputs).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] targets = Enumerable.Range(0, Samples * 3).Select(_ => (float)random.NextDouble()).ToArray();
        return (Dataset.FromTargets((float[])values.Clone(), Inputs, (float[])targets.Clone(), 3), values, targets);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 31)]
    [InlineData(true, 32)]
    [InlineData(true, 130)]
    [InlineData(false, 33)]
    [InlineData(false, 130)]
    public void CopyBatch_CopiesTheSameRows_OnAnyNumberOfThreads(bool bytes, int batch)
    {
        (Dataset data, float[] inputs, float[] targets) = bytes ? Bytes() : Floats();
        int[] indices = Enumerable.Range(0, batch).Select(i => (i * 113 + 17) % Samples).ToArray();
        int saved = ComputeOptions.ThreadCount;
        try
        {
            (float[] X, float[] T) Copy(int threads)
            {
                ComputeOptions.ThreadCount = threads;
                // One spare value after each span: CopyBatch must leave it alone.
                float[] x = Enumerable.Repeat(float.NaN, batch * data.InputSize + 1).ToArray();
                float[] t = Enumerable.Repeat(float.NaN, batch * data.TargetSize + 1).ToArray();
                data.CopyBatch(indices, x, t);
                return (x, t);
            }
            (float[] x1, float[] t1) = Copy(1);
            for (int b = 0; b < batch; b++)
            {
                x1.AsSpan(b * data.InputSize, data.InputSize).ToArray().Should().Equal(inputs.AsSpan(indices[b] * data.InputSize, data.InputSize).ToArray(), $"row {b} is sample {indices[b]}");
                t1.AsSpan(b * data.TargetSize, data.TargetSize).ToArray().Should().Equal(targets.AsSpan(indices[b] * data.TargetSize, data.TargetSize).ToArray());
            }
            float.IsNaN(x1[^1]).Should().BeTrue();
            float.IsNaN(t1[^1]).Should().BeTrue();
            foreach (int threads in new[] { 2, 3 })
            {
                (float[] x, float[] t) = Copy(threads);
                x.Select(BitConverter.SingleToInt32Bits).Should().Equal(x1.Select(BitConverter.SingleToInt32Bits));
                t.Select(BitConverter.SingleToInt32Bits).Should().Equal(t1.Select(BitConverter.SingleToInt32Bits));
            }
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }

    [Fact]
    public void CopyBatch_RejectsABadIndex_BeforeCopyingAnyRow()
    {
        Dataset data = Bytes().Data;
        int saved = ComputeOptions.ThreadCount;
        try
        {
            ComputeOptions.ThreadCount = 2;
            int[] indices = Enumerable.Range(0, 64).ToArray();
            indices[50] = Samples;
            float[] x = new float[64 * Inputs], t = new float[64 * Classes];
            FluentActions.Invoking(() => data.CopyBatch(indices, x, t)).Should().Throw<ArgumentOutOfRangeException>().WithMessage($"*{Samples}*");
            x.Should().OnlyContain(v => v == 0f);
            t.Should().OnlyContain(v => v == 0f);
        }
        finally
        {
            ComputeOptions.ThreadCount = saved;
        }
    }
}
