using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Onnx;
using NeuralDescent.Optimizers;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Onnx;

/// <summary>Exported models run in ONNX Runtime and give what <see cref="Network.PredictBatch"/> gives, within 1e-5.</summary>
[Collection(MnistCollection.Name)]
public sealed class OnnxExportTests(MnistFixture mnist) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Mlp_WithEveryActivation_MatchesPredictBatch_OnAThousandTestImages()
    {
        Dataset train = mnist.Data.Training.Slice(0, 2000);
        var network = new Network(seed: 3,
            Standardize.Fit(train),
            new Dense(784, 64), new ReLU(), new Dropout(0.2f),
            new Dense(64, 48), new LeakyReLU(0.1f),
            new Dense(48, 32), new Tanh(),
            new Dense(32, 24), new Sigmoid(),
            new BatchNorm(24),
            new Dense(24, 10), new Softmax());
        Train(network, train);
        CompareWithOnnxRuntime(network, mnist.Data.Test, 1000);
    }

    [Fact]
    public void Cnn_WithPaddingStridePoolingAndBatchNorm_MatchesPredictBatch_OnAThousandTestImages()
    {
        Dataset train = mnist.Data.Training.Slice(0, 1000);
        var network = new Network(seed: 4, Shape.Image(1, 28, 28),
            new Conv2D(1, 8, 3, padding: 1), new BatchNorm(8), new ReLU(), new MaxPool2D(2),
            new Conv2D(8, 12, 3, padding: 1), new ReLU(), new AvgPool2D(2), new Dropout(0.25f),
            new Conv2D(12, 16, 3, stride: 2, padding: 1), new ReLU(), new GlobalAvgPool2D(),
            new Dense(16, 10), new Softmax());
        Train(network, train);
        CompareWithOnnxRuntime(network, mnist.Data.Test, 1000);
    }

    [Fact]
    public void CnnFlattenedIntoDense_AndAStepLayer_MatchPredictBatch()
    {
        var network = new Network(seed: 5, Shape.Image(1, 28, 28),
            new Conv2D(1, 4, 5, stride: 1), new ReLU(), new MaxPool2D(2, stride: 2), new Flatten(),
            new Dense(4 * 12 * 12, 16), new Step(), new Dense(16, 10));
        CompareWithOnnxRuntime(network, mnist.Data.Test, 300);
    }

    [Fact]
    public void Save_WritesTheFileAtomically_AndLeavesNoTemporaryFile()
    {
        var network = new Network(seed: 1, new Dense(784, 10), new Softmax());
        string path = Path.Combine(_dir, "model.onnx");
        File.WriteAllText(path, "old contents");
        OnnxExport.Save(network, path);
        File.ReadAllBytes(path).Should().Equal(OnnxExport.ToBytes(network));
        Directory.GetFiles(_dir).Should().ContainSingle();
        using var session = new InferenceSession(path);
        session.InputMetadata.Keys.Should().Equal("input");
        session.OutputMetadata.Keys.Should().Equal("output");
        session.InputMetadata["input"].Dimensions.Should().Equal(-1, 784);
    }

    [Fact]
    public void ALayerWithoutAMapping_IsRefused_NamingTheLayer()
    {
        var network = new Network(seed: 1, Shape.Features(4), new Dense(4, 3), new Serialization.Gain(3));
        FluentActions.Invoking(() => OnnxExport.ToBytes(network)).Should().Throw<NotSupportedException>()
            .WithMessage("Layer 1 Gain*has no ONNX mapping*");
    }

    private static void Train(Network network, Dataset data)
        => new Trainer(new CrossEntropyCost(), new Adam(0.003f), new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 2 })
            .Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);

    private void CompareWithOnnxRuntime(Network network, Dataset test, int count)
    {
        int inputSize = network.InputSize, outputSize = network.OutputSize;
        float[] inputs = new float[count * inputSize];
        for (int i = 0; i < count; i++) test.CopyInput(i, inputs.AsSpan(i * inputSize, inputSize));
        float[] expected = new float[count * outputSize];
        network.PredictBatch(inputs, expected, count);

        string path = Path.Combine(_dir, "model.onnx");
        OnnxExport.Save(network, path);
        using var session = new InferenceSession(path);
        Shape shape = network.InputShape;
        int[] dims = shape.IsFeatures ? [count, inputSize] : [count, shape.Channels, shape.Height, shape.Width];
        var tensor = new DenseTensor<float>(inputs, dims);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        float[] actual = results.Single(r => r.Name == "output").AsEnumerable<float>().ToArray();

        actual.Should().HaveCount(expected.Length);
        float worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = MathF.Max(worst, MathF.Abs(actual[i] - expected[i]));
        worst.Should().BeLessThanOrEqualTo(1e-5f, "ONNX Runtime must compute what PredictBatch computes");
    }
}
