using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;

namespace NeuralDescent.Tests.Costs;

public class CostTests
{
    [Fact]
    public void Quadratic_DocExample() => new QuadraticCost().Value([0.5f, 1f], [0f, 1f], 1).Should().BeApproximately(0.125f, 1e-7f);

    [Fact]
    public void Quadratic_AveragesOverTheBatch() =>
        new QuadraticCost().Value([1f, 0f, 3f, 0f], [0f, 0f, 0f, 0f], 2).Should().BeApproximately((0.5f + 4.5f) / 2, 1e-6f);

    [Fact]
    public void CrossEntropy_DocExample() => new CrossEntropyCost().Value([0.25f, 0.75f], [0f, 1f], 1).Should().BeApproximately(0.2876821f, 1e-6f);

    [Fact]
    public void BinaryCrossEntropy_DocExample() => new BinaryCrossEntropyCost().Value([0.8f], [1f], 1).Should().BeApproximately(0.2231436f, 1e-6f);

    [Fact]
    public void CrossEntropy_OfZeroProbability_IsLargeButFinite()
    {
        float value = new CrossEntropyCost().Value([1f, 0f], [0f, 1f], 1);
        float.IsFinite(value).Should().BeTrue();
        value.Should().BeApproximately(-MathF.Log(CrossEntropyCost.Epsilon), 1e-3f);
    }

    [Fact]
    public void SoftmaxCrossEntropy_WithLogitsOfPlusMinus1000_IsExactAndFinite()
    {
        // Network: Dense(2→2) with identity weights feeding softmax, so the logits are the inputs.
        var dense = new Dense(2, 2);
        var network = new Network(dense, new Softmax());
        dense.Weights.Values.Clear();
        dense.Weights.Values[0] = 1f;
        dense.Weights.Values[3] = 1f;
        dense.Biases.Values.Clear();
        var data = NeuralDescent.Data.Dataset.FromLabels([1000f, -1000f, -1000f, 1000f], 2, [1, 1], 2);

        var result = Evaluator.Evaluate(network, data, new CrossEntropyCost());

        // Sample 0: logits (1000, −1000), label 1: −log softmax = 2000. Sample 1: correct with certainty: 0.
        result.Loss.Should().BeApproximately(1000f, 1e-3f);
        result.Accuracy.Should().Be(0.5);
        network.Predict([1000f, -1000f]).Should().Equal(1f, 0f);

        Network.Workspace ws = network.WorkspaceFor(2);
        float[] inputs = [1000f, -1000f, -1000f, 1000f];
        float[] targets = [0f, 1f, 0f, 1f];
        inputs.CopyTo(ws.Inputs, 0);
        network.ForwardInto(ws, inputs, 2, training: true);
        foreach (var p in network.Parameters) p.ZeroGradient();
        network.Backward(ws, inputs, new CrossEntropyCost(), targets, 2);
        network.Parameters.SelectMany(p => p.Gradient.ToArray()).Should().OnlyContain(v => float.IsFinite(v));
        // ∂C/∂b = mean over the batch of (a − t) = ((1, −1) + (0, 0)) / 2.
        dense.Biases.Gradient.ToArray().Should().Equal(0.5f, -0.5f);
    }

    [Fact]
    public void SigmoidBinaryCrossEntropy_WithHugeLogits_IsExactAndFinite()
    {
        var dense = new Dense(1, 1);
        var network = new Network(dense, new Sigmoid());
        dense.Weights.Values[0] = 1f;
        dense.Biases.Values[0] = 0f;
        var data = NeuralDescent.Data.Dataset.FromTargets([1000f, -1000f], 1, [0f, 0f], 1);
        // Sample 0: z = 1000, t = 0: loss 1000. Sample 1: z = −1000, t = 0: loss 0.
        Evaluator.Evaluate(network, data, new BinaryCrossEntropyCost()).Loss.Should().BeApproximately(500f, 1e-3f);
    }

    [Fact]
    public void Cost_WithMismatchedSpans_ThrowsNamingTheSizes()
    {
        FluentActions.Invoking(() => new QuadraticCost().Value([1f, 2f, 3f], [1f, 2f], 1))
            .Should().Throw<ArgumentException>().WithMessage("Quadratic: output has 3 values but target has 2.");
    }
}
