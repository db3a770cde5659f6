using NeuralDescent.Layers;
using NeuralDescent.Randomness;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Layers;

public class DenseTests
{
    private static (Dense Layer, float[] X, float[] G) Setup()
    {
        var dense = new Dense(9, 7);
        dense.Initialize(new RandomGenerator(1), null);
        return (dense, Rand.Floats(4 * 9, 2), Rand.Floats(4 * 7, 3));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(128, 784)]
    [InlineData(3, 5)]
    public unsafe void ParameterStorage_StartsOnACacheLineAndStaysThere(int rows, int columns)
    {
        var parameters = Enumerable.Range(0, 8).Select(i => new Parameter("weight", rows, columns + i)).ToList();
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (Parameter p in parameters)
            {
                fixed (float* values = p.Values)
                fixed (float* gradient = p.Gradient)
                {
                    ((nuint)values % 64).Should().Be(0u, $"{p} values");
                    ((nuint)gradient % 64).Should().Be(0u, $"{p} gradient");
                }
                p.Values.Length.Should().Be(p.Length);
                p.Gradient.Length.Should().Be(p.Length);
                p.Values.ToArray().Should().OnlyContain(v => v == 0f);
            }
            // Pinned storage: a compacting collection does not move it off the line.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
    }

    [Fact]
    public void Backward_AddsIntoGradients_UntilZeroed()
    {
        var (dense, x, g) = Setup();
        var y = new float[4 * 7];
        dense.Forward(x, y, 4, training: true);
        foreach (Parameter p in dense.Parameters) p.ZeroGradient();
        dense.Backward(x, y, g, Span<float>.Empty, 4);
        float[] once = dense.Weights.Gradient.ToArray(), onceBias = dense.Biases.Gradient.ToArray();
        dense.Backward(x, y, g, Span<float>.Empty, 4);
        for (int i = 0; i < once.Length; i++) dense.Weights.Gradient[i].Should().BeApproximately(2 * once[i], 1e-5f);
        for (int i = 0; i < onceBias.Length; i++) dense.Biases.Gradient[i].Should().BeApproximately(2 * onceBias[i], 1e-5f);

        dense.Weights.ZeroGradient();
        dense.Weights.Gradient.ToArray().Should().OnlyContain(v => v == 0f);
        dense.Weights.ZeroGradient();
        dense.Biases.ZeroGradient();
        dense.Backward(x, y, g, Span<float>.Empty, 4);
        dense.Weights.Gradient.ToArray().Should().Equal(once);
        dense.Biases.Gradient.ToArray().Should().Equal(onceBias);
    }

    [Fact]
    public void Forward_BatchOfOne_MatchesTheBatchPath()
    {
        var (dense, x, _) = Setup();
        var batch = new float[4 * 7];
        dense.Forward(x, batch, 4, training: false);
        var single = new float[7];
        dense.Forward(x.AsSpan(9, 9), single, 1, training: false);
        for (int j = 0; j < 7; j++) single[j].Should().BeApproximately(batch[7 + j], 1e-5f);
    }

    [Fact]
    public void Forward_WrongInputLength_NamesTheLayerAndSizes()
    {
        var (dense, _, _) = Setup();
        FluentActions.Invoking(() => dense.Forward(new float[10], new float[7], 1, false))
            .Should().Throw<ArgumentException>().WithMessage("Dense(9→7): expected input of 1×9 = 9 values but got 10.");
    }
}
