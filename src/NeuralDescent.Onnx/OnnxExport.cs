using System.Globalization;
using System.Runtime.InteropServices;
using NeuralDescent.Layers;

namespace NeuralDescent.Onnx;

/// <summary>
/// Writes a <see cref="Network"/> as an ONNX model (IR version 7, opset 13) for ONNX Runtime, ML.NET's
/// <c>ApplyOnnxModel</c> or any other ONNX consumer. The model computes what <see cref="Network.PredictBatch"/> computes.
/// </summary>
/// <remarks>
/// <para>The graph has one input, <c>input</c>, of shape [batch, features] or [batch, channels, height, width] (the
/// network's <see cref="Network.InputShape"/>), and one output, <c>output</c>, likewise; <c>batch</c> is a dynamic
/// dimension. Weights are stored as initializers named <c>{layer index}.{parameter name}</c>, as in model files.</para>
/// <para>Layers map to operators as follows: <c>Dense</c> → <c>Gemm</c> (transB = 1, W is out × in), <c>Conv2D</c> →
/// <c>Conv</c> (W is out × in × k × k), <c>MaxPool2D</c>/<c>AvgPool2D</c> → <c>MaxPool</c>/<c>AveragePool</c>,
/// <c>GlobalAvgPool2D</c> → <c>GlobalAveragePool</c>, <c>Flatten</c> → <c>Flatten</c> (axis 1), <c>BatchNorm</c> →
/// <c>BatchNormalization</c> (inference: running mean and variance), <c>ReLU</c>/<c>LeakyReLU</c>/<c>Sigmoid</c>/
/// <c>Tanh</c>/<c>Softmax</c> → <c>Relu</c>/<c>LeakyRelu</c>/<c>Sigmoid</c>/<c>Tanh</c>/<c>Softmax</c> (axis 1),
/// <c>Dropout</c> → <c>Identity</c> (inference), <c>Standardize</c> → <c>Sub</c> then <c>Div</c>, <c>Step</c> →
/// <c>Greater</c> then <c>Cast</c>. A 4-D tensor entering <c>Gemm</c> or <c>Softmax</c> is flattened first, as
/// NeuralDescent's layers see a sample as one row. Any other layer type throws <see cref="NotSupportedException"/>
/// naming the layer.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the graph uses.</summary>
    public const int Opset = 13;

    private const int IrVersion = 7;
    private const int FloatType = 1;

    /// <summary>Writes the model to <paramref name="path"/> atomically (a temporary file beside it, then a rename).</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX mapping; the message names it.</exception>
    public static void Save(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] model = ToBytes(network);
        Serialization.AtomicFile.Write(path, stream => stream.Write(model));
    }

    /// <summary>Writes the model to <paramref name="stream"/>.</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX mapping; the message names it.</exception>
    public static void Save(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(network));
    }

    /// <summary>The model as bytes (an ONNX <c>ModelProto</c>).</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX mapping; the message names it.</exception>
    public static byte[] ToBytes(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = new GraphBuilder(network);
        ProtoWriter graphProto = graph.Build();
        var model = new ProtoWriter()
            .Varint(1, IrVersion)
            .String(2, "NeuralDescent")
            .String(3, typeof(Network).Assembly.GetName().Version?.ToString() ?? "")
            .Message(7, graphProto)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, Opset));
        return model.ToArray();
    }

    /// <summary>Turns the layers into nodes, one tensor name after another.</summary>
    private sealed class GraphBuilder(Network network)
    {
        private readonly List<ProtoWriter> _nodes = [];
        private readonly List<ProtoWriter> _initializers = [];
        private string _current = "input";
        private int _rank = network.InputShape.IsFeatures ? 2 : 4;
        private int _next;

        public ProtoWriter Build()
        {
            for (int i = 0; i < network.Layers.Count; i++) Add(i, network.Layers[i]);
            Shape output = network.OutputShape;
            if (_rank == 4 && output.IsFeatures) Flatten();
            // The graph output must be the last tensor under the name "output": an Identity renames it.
            Node("Identity", [_current], "output");
            var graph = new ProtoWriter();
            foreach (ProtoWriter node in _nodes) graph.Message(1, node);
            graph.String(2, "neuraldescent");
            foreach (ProtoWriter tensor in _initializers) graph.Message(5, tensor);
            graph.Message(11, ValueInfo("input", network.InputShape));
            graph.Message(12, ValueInfo("output", output));
            return graph;
        }

        private void Add(int index, ILayer layer)
        {
            LayerSpec spec = layer.Describe()
                ?? throw new NotSupportedException($"Layer {index} {layer.Name} does not describe itself (Describe() returned null), so it has no ONNX mapping.");
            switch (spec.Type)
            {
                case "Dense":
                    if (_rank == 4) Flatten();
                    int inputs = spec.GetInt("in"), outputs = spec.GetInt("out");
                    Node("Gemm", [_current, Weight(index, layer, "weight", [outputs, inputs]), Weight(index, layer, "bias", [outputs])], null, transB: 1);
                    break;
                case "Conv2D":
                    RequireImage(index, layer);
                    int k = spec.GetInt("kernel"), stride = spec.GetInt("stride"), padding = spec.GetInt("padding", min: 0);
                    Node("Conv", [_current, Weight(index, layer, "weight", [spec.GetInt("out_channels"), spec.GetInt("in_channels"), k, k]), Weight(index, layer, "bias", [spec.GetInt("out_channels")])], null,
                        ints: [("kernel_shape", [k, k]), ("strides", [stride, stride]), ("pads", [padding, padding, padding, padding])]);
                    break;
                case "MaxPool2D":
                case "AvgPool2D":
                    RequireImage(index, layer);
                    int pool = spec.GetInt("kernel"), poolStride = spec.GetInt("stride");
                    Node(spec.Type == "MaxPool2D" ? "MaxPool" : "AveragePool", [_current], null, ints: [("kernel_shape", [pool, pool]), ("strides", [poolStride, poolStride])]);
                    break;
                case "GlobalAvgPool2D":
                    RequireImage(index, layer);
                    Node("GlobalAveragePool", [_current], null);
                    break;
                case "Flatten":
                    if (_rank == 4) Flatten();
                    break;
                case "BatchNorm":
                    int features = spec.GetInt("features");
                    Node("BatchNormalization",
                        [_current, Weight(index, layer, "weight", [features]), Weight(index, layer, "bias", [features]), State(index, layer, "running_mean", [features]), State(index, layer, "running_var", [features])],
                        null, floats: [("epsilon", spec.GetFloat("epsilon"))]);
                    break;
                case "ReLU":
                    Node("Relu", [_current], null);
                    break;
                case "LeakyReLU":
                    Node("LeakyRelu", [_current], null, floats: [("alpha", spec.GetFloat("slope"))]);
                    break;
                case "Sigmoid":
                    Node("Sigmoid", [_current], null);
                    break;
                case "Tanh":
                    Node("Tanh", [_current], null);
                    break;
                case "Softmax":
                    if (_rank == 4) Flatten();
                    Node("Softmax", [_current], null, ints: [("axis", [1])]);
                    break;
                case "Dropout":
                    Node("Identity", [_current], null);
                    break;
                case "Standardize":
                    int[] sampleDims = SampleDims(network.ShapeBefore(index));
                    Node("Sub", [_current, State(index, layer, "mean", sampleDims)], null);
                    Node("Div", [_current, State(index, layer, "std", sampleDims)], null);
                    break;
                case "Step":
                    string zero = Constant($"{index}.zero", 0f);
                    Node("Greater", [_current, zero], null);
                    Node("Cast", [_current], null, ints: [("to", [FloatType])]);
                    break;
                default:
                    throw new NotSupportedException($"Layer {index} {layer.Name} ({spec.Type}) has no ONNX mapping; ONNX export covers Dense, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D, Flatten, BatchNorm, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Dropout, Standardize and Step.");
            }
        }

        private void RequireImage(int index, ILayer layer)
        {
            if (_rank != 4)
                throw new NotSupportedException($"Layer {index} {layer.Name} needs channels × height × width, but the ONNX tensor reaching it is flat; give the network an image input shape.");
        }

        private int[] SampleDims(Shape shape) => _rank == 4 ? [shape.Channels, shape.Height, shape.Width] : [shape.Size];

        private void Flatten()
        {
            Node("Flatten", [_current], null, ints: [("axis", [1])]);
            _rank = 2;
        }

        private void Node(string op, string[] inputs, string? output, int? transB = null, (string Name, int[] Values)[]? ints = null, (string Name, float Value)[]? floats = null)
        {
            output ??= $"t{_next}";
            var node = new ProtoWriter();
            foreach (string input in inputs) node.String(1, input);
            node.String(2, output).String(3, $"n{_next}_{op}").String(4, op);
            _next++;
            if (transB is int t) node.Message(5, new ProtoWriter().String(1, "transB").Varint(3, t).Varint(20, 2));
            foreach ((string name, int[] values) in ints ?? [])
            {
                var attribute = new ProtoWriter().String(1, name);
                if (name is "axis" or "to")
                {
                    attribute.Varint(3, values[0]).Varint(20, 2); // INT
                }
                else
                {
                    foreach (int v in values) attribute.Varint(8, v);
                    attribute.Varint(20, 7); // INTS
                }
                node.Message(5, attribute);
            }
            foreach ((string name, float value) in floats ?? []) node.Message(5, new ProtoWriter().String(1, name).Float(2, value).Varint(20, 1)); // FLOAT
            _nodes.Add(node);
            _current = output;
        }

        private string Weight(int index, ILayer layer, string name, int[] dims)
        {
            Parameter parameter = layer.Parameters.FirstOrDefault(p => p.Name == name)
                ?? throw new NotSupportedException($"Layer {index} {layer.Name} has no parameter '{name}' to export.");
            return Tensor($"{index}.{name}", parameter.Values, dims, layer, index);
        }

        private string State(int index, ILayer layer, string name, int[] dims)
        {
            StateTensor state = layer.State.FirstOrDefault(s => s.Name == name)
                ?? throw new NotSupportedException($"Layer {index} {layer.Name} has no state tensor '{name}' to export.");
            return Tensor($"{index}.{name}", state.Values, dims, layer, index);
        }

        private string Constant(string name, float value)
        {
            Span<float> one = [value];
            return Tensor(name, one, [], null, -1);
        }

        private string Tensor(string name, ReadOnlySpan<float> values, int[] dims, ILayer? layer, int index)
        {
            long count = dims.Aggregate(1L, (a, d) => a * d);
            if (count != values.Length)
                throw new InvalidOperationException($"Layer {index} {layer?.Name}: '{name}' has {values.Length} values, not the {count.ToString(CultureInfo.InvariantCulture)} of shape [{string.Join(", ", dims)}].");
            var tensor = new ProtoWriter();
            foreach (int d in dims) tensor.Varint(1, d);
            tensor.Varint(2, FloatType).String(8, name);
            // raw_data is little-endian IEEE floats.
            if (BitConverter.IsLittleEndian)
            {
                tensor.Bytes(9, MemoryMarshal.AsBytes(values));
            }
            else
            {
                byte[] bytes = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
                tensor.Bytes(9, bytes);
            }
            _initializers.Add(tensor);
            return name;
        }

        private static ProtoWriter ValueInfo(string name, Shape shape)
        {
            var dims = new ProtoWriter().Message(1, new ProtoWriter().String(2, "batch"));
            int[] sizes = shape.IsFeatures ? [shape.Size] : [shape.Channels, shape.Height, shape.Width];
            foreach (int size in sizes) dims.Message(1, new ProtoWriter().Varint(1, size));
            var tensorType = new ProtoWriter().Varint(1, FloatType).Message(2, dims);
            return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
        }
    }
}
