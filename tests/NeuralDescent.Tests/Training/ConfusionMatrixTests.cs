using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;

namespace NeuralDescent.Tests.Training;

public class ConfusionMatrixTests
{
    [Fact]
    public void Compute_CountsActualAgainstPredicted()
    {
        // Identity network on 3 features: the prediction is the index of the largest input.
        var dense = new Dense(3, 3);
        var network = new Network(dense);
        dense.Weights.Values.Clear();
        for (int i = 0; i < 3; i++) dense.Weights.Values[i * 4] = 1f;
        dense.Biases.Values.Clear();
        float[] x = [1, 0, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 1, 0, 0];
        var data = Dataset.FromLabels(x, 3, [0, 1, 1, 2], 3);

        ConfusionMatrix m = ConfusionMatrix.Compute(network, data, batchSize: 3);

        m.Total.Should().Be(4);
        m[0, 0].Should().Be(1);
        m[1, 1].Should().Be(1);
        m[1, 2].Should().Be(1);
        m[2, 0].Should().Be(1);
        m.Accuracy.Should().Be(0.5);
    }
}
