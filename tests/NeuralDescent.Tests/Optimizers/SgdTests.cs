using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Tests.Optimizers;

public class SgdTests
{
    [Fact]
    public void Step_DocExample()
    {
        var p = new Parameter("w", 1, 1);
        p.Values[0] = 1f;
        p.Gradient[0] = 0.5f;
        new Sgd(0.1f).Step([p]);
        p.Values[0].Should().BeApproximately(0.95f, 1e-7f);
    }

    [Fact]
    public void TwoSteps_ByHand()
    {
        var p = new Parameter("w", 1, 3);
        float[] start = [1f, -2f, 0.5f], gradient = [0.2f, -0.4f, 1f];
        start.CopyTo(p.Values);
        gradient.CopyTo(p.Gradient);
        var sgd = new Sgd(0.5f);
        sgd.Step([p]);
        sgd.Step([p]);
        // θ₂ = θ₀ − 2·η·g with a constant gradient.
        p.Values.ToArray().Should().BeEquivalentTo(new[] { 0.8f, -1.6f, -0.5f }, o => o.WithStrictOrdering()
            .Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Constructor_RejectsBadLearningRates(float eta) =>
        FluentActions.Invoking(() => new Sgd(eta)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("learningRate");
}
