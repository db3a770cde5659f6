using NeuralDescent.Layers;

namespace NeuralDescent.Onnx;

/// <summary>
/// Reads an ONNX model made of the operators <see cref="OnnxExport"/> writes, such as a PyTorch <c>nn.Sequential</c>
/// exported with <c>torch.onnx.export</c>, into a <see cref="Network"/>.
/// </summary>
/// <remarks>
/// <para>The graph must be a chain (each node takes the previous node's output) from one float input of shape
/// [batch, features] or [batch, channels, height, width]. Operators map back to layers: <c>Gemm</c> → Dense (B given
/// as out × in with transB = 1, or in × out; alpha = beta = 1), <c>Conv</c> → Conv2D (square kernel, equal strides and
/// pads, no dilation or groups), <c>MaxPool</c>/<c>AveragePool</c> → MaxPool2D/AvgPool2D (square, no padding),
/// <c>GlobalAveragePool</c>, <c>Flatten</c> (axis 1), <c>BatchNormalization</c> → BatchNorm (scale, bias, running
/// mean and variance, epsilon), <c>Relu</c>, <c>LeakyRelu</c>, <c>Sigmoid</c>, <c>Tanh</c>, <c>Softmax</c> (over the
/// features), while <c>Identity</c>, <c>Dropout</c> (inference) and a <c>Pad</c> of zeros are dropped. Any other operator, or an attribute
/// outside these cases, is an <see cref="InvalidDataException"/> naming the node and the operator.</para>
/// </remarks>
public static class OnnxImport
{
    /// <summary>Reads the model at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model or uses an operator outside the set; the message names the file and node.</exception>
    public static Network Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = File.ReadAllBytes(path);
        return Load(bytes, path);
    }

    /// <summary>Reads a model from a stream (read to the end).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid ONNX model or use an operator outside the set.</exception>
    public static Network Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.ToArray(), "stream");
    }

    private static Network Load(byte[] bytes, string source)
    {
        OnnxGraph graph = OnnxGraph.Parse(bytes, source);
        return new Builder(graph, source).Build();
    }

    private sealed class Builder(OnnxGraph graph, string source)
    {
        private readonly List<ILayer> _layers = [];
        private readonly List<Action> _fills = [];
        private int _rank;

        public Network Build()
        {
            OnnxValue input = graph.Inputs.FirstOrDefault(i => !graph.Initializers.ContainsKey(i.Name))
                ?? throw Error("the graph has no input that is not an initializer");
            if (input.Dims.Count is not (2 or 4)) throw Error($"input '{input.Name}' has {input.Dims.Count} dimensions; [batch, features] or [batch, channels, height, width] are supported");
            _rank = input.Dims.Count;
            Shape shape = _rank == 2 ? Shape.Features(Positive(input, 1)) : Shape.Image(Positive(input, 1), Positive(input, 2), Positive(input, 3));
            string current = input.Name;
            foreach (OnnxNode node in graph.Nodes)
            {
                string data = node.Inputs.Count > 0 ? node.Inputs[0] : "";
                if (data != current)
                    throw Error($"node '{node.Name}' ({node.Op}) reads '{data}', not the previous node's output '{current}': only chains of layers are imported");
                try
                {
                    Add(node);
                }
                catch (ArgumentException e)
                {
                    throw Error($"node '{node.Name}' ({node.Op}) cannot be a layer: {e.Message.TrimEnd('.')}");
                }
                current = node.Outputs.Count > 0 ? node.Outputs[0] : throw Error($"node '{node.Name}' ({node.Op}) has no output");
            }
            if (graph.Outputs.Count != 1 || graph.Outputs[0].Name != current)
                throw Error($"the graph's output is not the last node's output '{current}'");
            if (_layers.Count == 0) throw Error("the graph has no layers");
            Network network;
            try
            {
                network = new Network(0, shape, [.. _layers]);
            }
            catch (ArgumentException e)
            {
                throw Error($"the layers do not chain: {e.Message.TrimEnd('.')}");
            }
            foreach (Action fill in _fills) fill();
            return network;
        }

        private void Add(OnnxNode node)
        {
            switch (node.Op)
            {
                case "Gemm":
                {
                    Expect(node, node.Float("alpha", 1f) == 1f && node.Float("beta", 1f) == 1f && node.Int("transA", 0) == 0, "alpha = beta = 1 and transA = 0");
                    if (_rank == 4) throw Error($"node '{node.Name}' (Gemm) receives a 4-D tensor; a Flatten must come first");
                    OnnxTensor b = Initializer(node, 1);
                    bool transposed = node.Int("transB", 0) == 1;
                    Expect(node, b.Dims.Count == 2, "a 2-D weight");
                    int outputs = (int)(transposed ? b.Dims[0] : b.Dims[1]), inputs = (int)(transposed ? b.Dims[1] : b.Dims[0]);
                    float[] weight = transposed ? b.Data : Transpose(b.Data, inputs, outputs);
                    float[] bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Vector(node, 2, outputs) : new float[outputs];
                    var dense = new Dense(inputs, outputs);
                    Fill(dense, ("weight", weight), ("bias", bias));
                    break;
                }
                case "Conv":
                {
                    OnnxTensor w = Initializer(node, 1);
                    Expect(node, w.Dims.Count == 4 && w.Dims[2] == w.Dims[3], "a square 4-D kernel");
                    int k = (int)w.Dims[2];
                    long[] strides = node.Ints("strides", [1, 1]), pads = node.Ints("pads", [0, 0, 0, 0]), dilations = node.Ints("dilations", [1, 1]);
                    Expect(node, strides.Length == 2 && strides[0] == strides[1], "equal strides");
                    Expect(node, pads.Length == 4 && pads.All(p => p == pads[0]), "the same padding on every side");
                    Expect(node, dilations.All(d => d == 1) && node.Int("group", 1) == 1 && node.Ints("kernel_shape", [k, k]).All(s => s == k), "no dilation, one group");
                    int outputs = (int)w.Dims[0];
                    float[] bias = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Vector(node, 2, outputs) : new float[outputs];
                    var conv = new Conv2D((int)w.Dims[1], outputs, k, (int)strides[0], (int)pads[0]);
                    Fill(conv, ("weight", w.Data), ("bias", bias));
                    break;
                }
                case "MaxPool":
                case "AveragePool":
                {
                    long[] kernel = node.Ints("kernel_shape", []), strides = node.Ints("strides", kernel), pads = node.Ints("pads", [0, 0, 0, 0]);
                    Expect(node, kernel.Length == 2 && kernel[0] == kernel[1] && strides.Length == 2 && strides[0] == strides[1], "a square window with equal strides");
                    Expect(node, pads.All(p => p == 0) && node.Int("ceil_mode", 0) == 0 && node.Ints("dilations", [1, 1]).All(d => d == 1), "no padding, ceil_mode 0");
                    _layers.Add(node.Op == "MaxPool" ? new MaxPool2D((int)kernel[0], (int)strides[0]) : new AvgPool2D((int)kernel[0], (int)strides[0]));
                    break;
                }
                case "GlobalAveragePool":
                    // [batch, C, 1, 1] in ONNX; GlobalAvgPool2D already gives C features, so a Flatten after it is a no-op.
                    _layers.Add(new GlobalAvgPool2D());
                    _rank = 2;
                    break;
                case "Flatten":
                    Expect(node, node.Int("axis", 1) == 1, "axis 1");
                    if (_rank == 4) _layers.Add(new Flatten());
                    _rank = 2;
                    break;
                case "BatchNormalization":
                {
                    OnnxTensor scale = Initializer(node, 1);
                    int features = (int)scale.Dims[0];
                    Expect(node, node.Int("training_mode", 0) == 0, "inference mode");
                    var norm = new BatchNorm(features, epsilon: node.Float("epsilon", 1e-5f));
                    Fill(norm, ("weight", Vector(node, 1, features)), ("bias", Vector(node, 2, features)), ("running_mean", Vector(node, 3, features)), ("running_var", Vector(node, 4, features)));
                    break;
                }
                case "Relu":
                    _layers.Add(new ReLU());
                    break;
                case "LeakyRelu":
                    _layers.Add(new LeakyReLU(node.Float("alpha", 0.01f)));
                    break;
                case "Sigmoid":
                    _layers.Add(new Sigmoid());
                    break;
                case "Tanh":
                    _layers.Add(new Tanh());
                    break;
                case "Softmax":
                    long axis = node.Int("axis", -1);
                    Expect(node, _rank == 2 && axis is 1 or -1, "a softmax over the features of a 2-D tensor");
                    _layers.Add(new Softmax());
                    break;
                case "Identity":
                case "Dropout":
                    break;
                case "Pad":
                {
                    // PyTorch writes AvgPool2d as a Pad of zeros before AveragePool; only that no-op is imported.
                    long[] pads = node.Inputs.Count > 1 && graph.Initializers.TryGetValue(node.Inputs[1], out OnnxTensor? p) ? p.Int64Data : node.Ints("pads", []);
                    Expect(node, pads.All(v => v == 0), "zero padding");
                    break;
                }
                default:
                    throw Error($"node '{node.Name}' uses operator '{node.Op}', which is not imported (Gemm, Conv, MaxPool, AveragePool, GlobalAveragePool, Flatten, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, Identity, Dropout, zero Pad)");
            }
        }

        private int Positive(OnnxValue input, int axis)
        {
            long d = input.Dims[axis];
            if (d <= 0 || d > int.MaxValue) throw Error($"input '{input.Name}' has no fixed size for dimension {axis}");
            return (int)d;
        }

        private OnnxTensor Initializer(OnnxNode node, int index)
        {
            if (node.Inputs.Count <= index || !graph.Initializers.TryGetValue(node.Inputs[index], out OnnxTensor? tensor))
                throw Error($"node '{node.Name}' ({node.Op}): input {index} is not a stored tensor (initializer)");
            if (tensor.DataType != 1) throw Error($"node '{node.Name}' ({node.Op}): input {index} '{tensor.Name}' has ONNX data type {tensor.DataType}; weights must be float (1)");
            return tensor;
        }

        private float[] Vector(OnnxNode node, int index, int length)
        {
            OnnxTensor t = Initializer(node, index);
            if (t.Data.Length != length) throw Error($"node '{node.Name}' ({node.Op}): input {index} '{node.Inputs[index]}' has {t.Data.Length} values, not {length}");
            return t.Data;
        }

        private void Fill(ILayer layer, params (string Name, float[] Values)[] tensors)
        {
            _layers.Add(layer);
            _fills.Add(() =>
            {
                foreach ((string name, float[] values) in tensors)
                {
                    Parameter? parameter = layer.Parameters.FirstOrDefault(p => p.Name == name);
                    Span<float> target = parameter is not null ? parameter.Values : layer.State.First(s => s.Name == name).Values;
                    if (target.Length != values.Length) throw Error($"{layer.Name}'s {name} needs {target.Length} values, the model has {values.Length}");
                    values.CopyTo(target);
                }
            });
        }

        private void Expect(OnnxNode node, bool condition, string what)
        {
            if (!condition) throw Error($"node '{node.Name}' ({node.Op}) is imported only with {what}");
        }

        private static float[] Transpose(float[] values, int rows, int columns)
        {
            var result = new float[values.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
            return result;
        }

        private InvalidDataException Error(string problem) => new($"{source}: {problem}.");
    }
}
