using NeuralDescent.Diagnostics;
using NeuralDescent.Layers;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Diagnostics;

public class ConvolutionSaliencyTests
{
    private static ILayer[] Body() =>
    [
        new Conv2D(1, 4, 3, padding: 1), new BatchNorm(4), new Tanh(), new AvgPool2D(2),
        new Conv2D(4, 6, 3, stride: 2), new Tanh(), new Dropout(0.5f), new Flatten(), new Dense(6 * 2 * 2, 5),
    ];
    // Dropout is the identity outside training, so saliency must pass straight through it even after a training
    // batch has drawn a mask.

    [Fact]
    public void Saliency_ThroughConvolutions_IsTheGradientOfTheClassScore()
    {
        var input = Shape.Image(1, 10, 10);
        var network = new Network(3, input, [.. Body(), new Softmax()]);
        var logits = new Network(3, input, Body());
        // Move the batch-norm running statistics off their defaults, then give the logit network the same tensors.
        float[] warm = Rand.Floats(8 * 100, 1, 0f, 1f);
        network.PredictBatch(warm, new float[8 * 5], 8);
        new NeuralDescent.Training.Trainer(new NeuralDescent.Costs.CrossEntropyCost(), new NeuralDescent.Optimizers.Sgd(0.1f))
            .TrainBatch(network, warm, Enumerable.Range(0, 40).Select(i => i % 5 == i / 5 % 5 ? 1f : 0f).ToArray(), 8);
        for (int p = 0; p < network.Parameters.Count; p++) network.Parameters[p].Values.CopyTo(logits.Parameters[p].Values);
        for (int s = 0; s < network.State.Count; s++) network.State[s].Values.CopyTo(logits.State[s].Values);

        float[] x = Rand.Floats(100, 2, 0f, 1f);
        float[] saliency = Saliency.Compute(network, x, classIndex: 3);
        saliency.Should().HaveCount(100);
        for (int pixel = 0; pixel < 100; pixel += 7)
        {
            float saved = x[pixel];
            x[pixel] = saved + 1e-2f;
            float plus = logits.Predict(x)[3];
            x[pixel] = saved - 1e-2f;
            float minus = logits.Predict(x)[3];
            x[pixel] = saved;
            saliency[pixel].Should().BeApproximately((plus - minus) / 2e-2f, 2e-3f + 0.02f * Math.Abs(saliency[pixel]), $"pixel {pixel}");
        }
        saliency.Should().Contain(v => Math.Abs(v) > 1e-3f, "the score depends on the pixels");
    }
}
