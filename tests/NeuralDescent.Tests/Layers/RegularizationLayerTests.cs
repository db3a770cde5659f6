using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Layers;

public class RegularizationLayerTests
{
    [Fact]
    public void Dropout_InTraining_DropsAboutPAndScalesTheRest()
    {
        var dropout = new Dropout(0.3f) { Random = new RandomGenerator(1) };
        float[] x = Enumerable.Repeat(2f, 100_000).ToArray();
        var y = new float[x.Length];
        dropout.Forward(x, y, 1000, training: true);
        double dropped = y.Count(v => v == 0f) / (double)y.Length;
        dropped.Should().BeApproximately(0.3, 0.01);
        y.Where(v => v != 0f).Should().OnlyContain(v => Math.Abs(v - 2f / 0.7f) < 1e-5f);
        y.Average().Should().BeApproximately(2f, 0.03f); // inverted dropout keeps the expectation
    }

    [Theory]
    [InlineData(0.25f)]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    [InlineData(0.3f, 99_999)] // an odd count, split across threads: the last value takes the top bits of one more output
    public void Dropout_Mask_IsKeepWhenTheNextUniformIsBelowOneMinusP(float rate, int count = 10_000)
    {
        var dropout = new Dropout(rate) { Random = new RandomGenerator(7) };
        float[] x = Enumerable.Repeat(1f, count).ToArray();
        var y = new float[x.Length];
        dropout.Forward(x, y, count % 100 == 0 ? 100 : 1, training: true);
        // One key per batch from the layer's generator; pair j takes the (j + 1)-th SplitMix64 output from the key:
        // its top 24 bits, then the next 24.
        var reference = new RandomGenerator(7);
        ulong state = reference.NextUInt64();
        var uniforms = new List<float>();
        while (uniforms.Count < count)
        {
            ulong draw = RandomGenerator.SplitMix64(ref state);
            uniforms.Add((draw >> 40) * (1f / (1 << 24)));
            uniforms.Add(((draw >> 16) & 0xFFFFFF) * (1f / (1 << 24)));
        }
        float keep = 1f - rate, scale = 1f / keep;
        float[] expected = uniforms.Take(count).Select(u => u < keep ? scale : 0f).ToArray();
        y.Should().Equal(expected);
        reference.NextUInt64().Should().Be(dropout.Random!.NextUInt64(), "the layer took one draw for the batch");
    }

    [Fact]
    public void Dropout_OutsideTraining_IsTheIdentity_AndPredictIsDeterministic()
    {
        var network = new Network(1, new Dense(5, 8), new ReLU(), new Dropout(0.5f), new Dense(8, 2));
        float[] x = Rand.Floats(5, 2);
        network.Predict(x).Should().Equal(network.Predict(x));
        var dropout = new Dropout(0.5f);
        float[] input = Rand.Floats(40, 3), output = new float[40];
        dropout.Forward(input, output, 4, training: false);
        output.Should().Equal(input);
    }

    [Fact]
    public void Predictions_ThroughDropout_AreBitwiseThoseOfTheNetworkWithoutIt()
    {
        // Predictions skip the layer (its output shares its input's buffer); a trained mask must not leak in.
        var with = new Network(5, Shape.Features(6), new Dense(6, 8), new ReLU(), new Dropout(0.5f), new Dense(8, 3), new Softmax());
        var without = new Network(5, Shape.Features(6), new Dense(6, 8), new ReLU(), new Dense(8, 3), new Softmax());
        new NeuralDescent.Training.Trainer(new NeuralDescent.Costs.CrossEntropyCost(), new NeuralDescent.Optimizers.Sgd(0.1f))
            .TrainBatch(with, Rand.Floats(4 * 6, 1), [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], 4);
        for (int p = 0; p < with.Parameters.Count; p++) with.Parameters[p].Values.CopyTo(without.Parameters[p].Values);
        float[] x = Rand.Floats(7 * 6, 2);
        float[] a = new float[7 * 3], b = new float[7 * 3];
        with.PredictBatch(x, a, 7);
        without.PredictBatch(x, b, 7);
        a.Should().Equal(b);
        with.Predict(x.AsSpan(0, 6)).Should().Equal(without.Predict(x.AsSpan(0, 6)));
        Dataset data = Dataset.FromLabels(x, 6, [0, 1, 2, 0, 1, 2, 0], 3);
        var cost = new NeuralDescent.Costs.CrossEntropyCost();
        NeuralDescent.Metrics.Evaluator.Evaluate(with, data, cost).Loss.Should().Be(NeuralDescent.Metrics.Evaluator.Evaluate(without, data, cost).Loss);
    }

    [Fact]
    public void Dropout_Backward_UsesTheSameMask()
    {
        var dropout = new Dropout(0.5f) { Random = new RandomGenerator(4) };
        float[] x = Enumerable.Repeat(1f, 64).ToArray(), y = new float[64], g = Enumerable.Repeat(1f, 64).ToArray(), dx = new float[64];
        dropout.Forward(x, y, 8, training: true);
        dropout.Backward(x, y, g, dx, 8);
        dx.Should().Equal(y); // with x = 1 and g = 1 both equal the mask
    }

    [Fact]
    public void Dropout_RejectsBadRates()
    {
        FluentActions.Invoking(() => new Dropout(1f)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rate");
        FluentActions.Invoking(() => new Dropout(-0.1f)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Standardize_Fit_GivesZeroMeanUnitVariance_AndLeavesConstantFeaturesUnscaled()
    {
        // Feature 0: 1, 3, 5 (μ 3, σ √(8/3)); feature 1: constant 7.
        var data = Dataset.FromLabels([1f, 7f, 3f, 7f, 5f, 7f], 2, [0, 1, 0], 2);
        Standardize layer = Standardize.Fit(data);
        layer.Mean.Should().Equal(3f, 7f);
        layer.StandardDeviation[0].Should().BeApproximately(MathF.Sqrt(8f / 3f), 1e-5f);
        layer.StandardDeviation[1].Should().Be(1f);
        var y = new float[6];
        layer.Forward([1f, 7f, 3f, 7f, 5f, 7f], y, 3, training: false);
        new[] { y[0], y[2], y[4] }.Average().Should().BeApproximately(0f, 1e-6f);
        new[] { y[0], y[2], y[4] }.Select(v => v * v).Average().Should().BeApproximately(1f, 1e-5f);
        new[] { y[1], y[3], y[5] }.Should().OnlyContain(v => v == 0f);
    }

    [Fact]
    public void Standardize_SizeIsCheckedWhenTheNetworkIsBuilt()
    {
        FluentActions.Invoking(() => new Network(new Standardize([0f, 0f], [1f, 1f]), new Dense(3, 1)))
            .Should().Throw<ArgumentException>().WithMessage("*layer 0 Standardize(2) gives 2, layer 1 Dense(3→1) expects 3 features*");
    }
}
