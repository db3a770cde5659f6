using Microsoft.ML;
using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Onnx;
using NeuralDescent.Optimizers;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Onnx;

/// <summary>ML.NET scores an exported model through <c>ApplyOnnxModel</c> and picks the same classes as <see cref="Network.Classify"/>.</summary>
[Collection(MnistCollection.Name)]
public sealed class MlNetOnnxTests(MnistFixture mnist) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-mlnet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Digit
    {
        [Microsoft.ML.Data.VectorType(784)]
        [Microsoft.ML.Data.ColumnName("input")]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class Scores
    {
        [Microsoft.ML.Data.ColumnName("output")]
        public float[] Probabilities { get; set; } = [];
    }

    [Fact]
    public void ApplyOnnxModel_ScoresAnExportedNetwork_WithTheSameClasses()
    {
        var network = new Network(seed: 6, new Dense(784, 64), new ReLU(), new Dense(64, 10), new Softmax());
        new Trainer(new CrossEntropyCost(), new Adam(0.003f), new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 2 })
            .Fit(network, mnist.Data.Training.Slice(0, 3000), cancellationToken: TestContext.Current.CancellationToken);
        string path = Path.Combine(_dir, "mnist.onnx");
        OnnxExport.Save(network, path);

        const int count = 200;
        var digits = new List<Digit>();
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[784];
            mnist.Data.Test.CopyInput(i, pixels);
            digits.Add(new Digit { Pixels = pixels });
        }
        var ml = new Microsoft.ML.MLContext(seed: 1);
        Microsoft.ML.IDataView data = ml.Data.LoadFromEnumerable(digits);
        var pipeline = ml.Transforms.ApplyOnnxModel(outputColumnNames: ["output"], inputColumnNames: ["input"], modelFile: path);
        Microsoft.ML.IDataView scored = pipeline.Fit(data).Transform(data);
        List<Scores> scores = ml.Data.CreateEnumerable<Scores>(scored, reuseRowObject: false).ToList();

        scores.Should().HaveCount(count);
        for (int i = 0; i < count; i++)
        {
            int mlnet = Array.IndexOf(scores[i].Probabilities, scores[i].Probabilities.Max());
            mlnet.Should().Be(network.Classify(digits[i].Pixels), $"test image {i}");
        }
    }
}
