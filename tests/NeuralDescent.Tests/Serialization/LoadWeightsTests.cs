using System.Text.Json;
using NeuralDescent.Layers;
using NeuralDescent.Serialization;

namespace NeuralDescent.Tests.Serialization;

/// <summary>Weights from a plain PyTorch state_dict, and model files through streams.</summary>
public class LoadWeightsTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch");

    private static Network SameAsTheFixture() => new(Shape.Features(6),
        new Dense(6, 5), new BatchNorm(5), new ReLU(), new Dense(5, 3), new Softmax());

    [Fact]
    public void LoadWeights_PyTorchStateDict_ReproducesPyTorchsOutputs()
    {
        // Made by Fixtures/pytorch/make_state_dict.py with torch 1.13: nn.Sequential(Linear, BatchNorm1d, ReLU, Linear,
        // Softmax) after a few training-mode batches (so running statistics are not 0/1), in eval mode.
        Network network = SameAsTheFixture();
        ModelFile.LoadWeights(network, Path.Combine(Fixtures, "mlp_bn.safetensors"));
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "mlp_bn.expected.json")));
        JsonElement inputs = expected.RootElement.GetProperty("inputs"), outputs = expected.RootElement.GetProperty("outputs");
        for (int i = 0; i < inputs.GetArrayLength(); i++)
        {
            float[] x = inputs[i].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            float[] torch = outputs[i].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            network.Predict(x).Should().BeEquivalentTo(torch, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>(), $"sample {i}");
        }
    }

    [Fact]
    public void LoadWeights_IsStrict_AndChangesNothingWhenTheFileDoesNotFit()
    {
        string file = Path.Combine(Fixtures, "mlp_bn.safetensors");
        var narrower = new Network(seed: 1, Shape.Features(6), new Dense(6, 4), new BatchNorm(4), new ReLU(), new Dense(4, 3), new Softmax());
        float[] before = narrower.Parameters.SelectMany(p => p.Values.ToArray()).ToArray();
        FluentActions.Invoking(() => ModelFile.LoadWeights(narrower, file)).Should().Throw<InvalidDataException>()
            .WithMessage("*mlp_bn.safetensors: tensor '0.weight' has shape [5, 6] but layer 0 of the architecture needs [4, 6]*");
        narrower.Parameters.SelectMany(p => p.Values.ToArray()).Should().Equal(before, "a file that does not fit changes nothing");

        var shorter = new Network(seed: 1, Shape.Features(6), new Dense(6, 5), new BatchNorm(5), new ReLU());
        FluentActions.Invoking(() => ModelFile.LoadWeights(shorter, file)).Should().Throw<InvalidDataException>()
            .WithMessage("*tensor '3.weight' belongs to no layer of the network (strict loading)*");

        var longer = new Network(seed: 1, Shape.Features(6), new Dense(6, 5), new BatchNorm(5), new ReLU(), new Dense(5, 3), new ReLU(), new Dense(3, 2));
        FluentActions.Invoking(() => ModelFile.LoadWeights(longer, file)).Should().Throw<InvalidDataException>()
            .WithMessage("*tensor '5.weight' for layer 5 is missing*");
    }

    [Fact]
    public void SaveAndLoad_ThroughStreams_SeekableOrNot_PredictTheSame()
    {
        var network = new Network(seed: 3, Shape.Image(1, 6, 6), new Conv2D(1, 2, 3), new BatchNorm(2), new ReLU(), new Flatten(), new Dense(32, 4), new Softmax());
        var buffer = new MemoryStream();
        buffer.Write([1, 2, 3]); // the model starts wherever the stream is
        ModelFile.Save(network, buffer);
        byte[] bytes = buffer.ToArray();

        buffer.Position = 3;
        Network fromSeekable = ModelFile.Load(buffer);
        Network fromPipe = ModelFile.Load(new ForwardOnlyStream(bytes.AsSpan(3).ToArray()));
        float[] x = Enumerable.Range(0, 36).Select(i => i / 36f).ToArray();
        fromSeekable.Predict(x).Should().Equal(network.Predict(x));
        fromPipe.Predict(x).Should().Equal(network.Predict(x));
        FluentActions.Invoking(() => ModelFile.Load(new MemoryStream(bytes[3..^1]))).Should().Throw<InvalidDataException>().WithMessage("stream: *");
    }

    /// <summary>A stream that can only be read front to back, like a network response.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, Math.Min(7, data.Length - _position));
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
