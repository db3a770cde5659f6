using System.Text.Json;
using NeuralDescent.Layers;
using NeuralDescent.Onnx;

namespace NeuralDescent.Tests.Onnx;

/// <summary>Models exported by PyTorch come in through ONNX and reproduce PyTorch's outputs.</summary>
public class OnnxImportTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx");

    [Theory]
    [InlineData("mlp")]   // Linear, ReLU, BatchNorm1d, LeakyReLU, Tanh, Sigmoid, Softmax
    [InlineData("cnn")]   // Conv2d (padding, stride), ReLU, BatchNorm2d, MaxPool2d, AvgPool2d, Flatten, Linear, Softmax
    public void PyTorchExports_ReproducePyTorchsOutputs(string name)
    {
        // Made by Fixtures/onnx/make_onnx_fixtures.py with torch 1.13's torch.onnx.export (opset 13).
        Network network = OnnxImport.Load(Path.Combine(Fixtures, name + ".onnx"));
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, name + ".expected.json")));
        JsonElement inputs = expected.RootElement.GetProperty("inputs"), outputs = expected.RootElement.GetProperty("outputs");
        for (int i = 0; i < inputs.GetArrayLength(); i++)
        {
            float[] x = inputs[i].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            float[] torch = outputs[i].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            float[] ours = network.Predict(x);
            ours.Should().HaveCount(torch.Length);
            for (int k = 0; k < torch.Length; k++) ours[k].Should().BeApproximately(torch[k], 1e-5f, $"sample {i}, output {k}");
        }
    }

    [Fact]
    public void ExportThenImport_GivesTheSameNetwork()
    {
        var network = new Network(seed: 8, Shape.Image(1, 12, 12),
            new Conv2D(1, 3, 3, padding: 1), new BatchNorm(3), new LeakyReLU(0.2f), new AvgPool2D(2), new Dropout(0.5f),
            new Conv2D(3, 5, 3), new Tanh(), new GlobalAvgPool2D(), new Dense(5, 4), new Sigmoid());
        foreach (StateTensor s in network.State) for (int i = 0; i < s.Values.Length; i++) s.Values[i] = 0.5f + 0.1f * i;
        Network back = OnnxImport.Load(new MemoryStream(OnnxExport.ToBytes(network)));
        float[] x = Enumerable.Range(0, 144).Select(i => MathF.Sin(i)).ToArray();
        back.Predict(x).Should().Equal(network.Predict(x));
        back.Layers.Select(l => l.Name).Should().Equal(network.Layers.Where(l => l is not Dropout).Select(l => l.Name));
    }

    [Fact]
    public void AnOperatorOutsideTheSet_IsRefused_NamingTheNodeAndOperator()
    {
        byte[] model = OnnxExport.ToBytes(new Network(seed: 1, Shape.Features(3), new Dense(3, 2), new ReLU()));
        // Rename the Relu operator in place (same length): 'Relu' → 'Celu'.
        int at = model.AsSpan().LastIndexOf("Relu"u8);   // the op_type, written after the node's name
        model[at] = (byte)'C';
        FluentActions.Invoking(() => OnnxImport.Load(new MemoryStream(model))).Should().Throw<InvalidDataException>()
            .WithMessage("stream: node 'n1_Relu' uses operator 'Celu', which is not imported*");
    }

    [Fact]
    public void AnImpossibleAttribute_IsInvalidDataException_NamingTheNode()
    {
        byte[] model = OnnxExport.ToBytes(new Network(seed: 1, Shape.Image(1, 4, 4), new MaxPool2D(2), new Flatten()));
        // kernel_shape [2, 2] is written as two varint fields 8 with value 2 right after the attribute name.
        int at = model.AsSpan().IndexOf("kernel_shape"u8) + "kernel_shape".Length;
        model[at + 1] = 0; // the first kernel size: 2 → 0
        FluentActions.Invoking(() => OnnxImport.Load(new MemoryStream(model))).Should().Throw<InvalidDataException>()
            .WithMessage("stream: node 'n0_MaxPool' (MaxPool) *");
    }

    [Fact]
    public void DamagedBytes_AreInvalidDataException_WithTheOffset()
    {
        byte[] model = OnnxExport.ToBytes(new Network(seed: 1, Shape.Features(3), new Dense(3, 2)));
        FluentActions.Invoking(() => OnnxImport.Load(new MemoryStream(model[..(model.Length / 2)]))).Should().Throw<InvalidDataException>()
            .WithMessage("stream: not a valid ONNX model: * at byte *");
        var random = new Random(3);
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] copy = (byte[])model.Clone();
            for (int k = 0; k < 3; k++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
            try
            {
                OnnxImport.Load(new MemoryStream(copy));
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
