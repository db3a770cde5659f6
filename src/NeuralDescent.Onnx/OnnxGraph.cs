namespace NeuralDescent.Onnx;

/// <summary>A float tensor stored in the model (an initializer or a Constant node's value).</summary>
internal sealed record OnnxTensor(string Name, IReadOnlyList<long> Dims, float[] Data, long DataType = 1)
{
    /// <summary>The values of an INT64 tensor (data type 7), such as Pad's pads; empty otherwise.</summary>
    public long[] Int64Data { get; init; } = [];
}

/// <summary>A graph input or output: its name and dimensions (0 for a dynamic one such as the batch).</summary>
internal sealed record OnnxValue(string Name, IReadOnlyList<long> Dims);

/// <summary>One node: operator, inputs, outputs and attributes (integers, integer lists, floats).</summary>
internal sealed class OnnxNode
{
    public string Name { get; set; } = "";
    public string Op { get; set; } = "";
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public Dictionary<string, long[]> IntAttributes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, float> FloatAttributes { get; } = new(StringComparer.Ordinal);
    public OnnxTensor? Value { get; set; }

    public long Int(string name, long fallback) => IntAttributes.TryGetValue(name, out long[]? v) && v.Length == 1 ? v[0] : fallback;

    public long[] Ints(string name, long[] fallback) => IntAttributes.TryGetValue(name, out long[]? v) ? v : fallback;

    public float Float(string name, float fallback) => FloatAttributes.TryGetValue(name, out float v) ? v : fallback;
}

/// <summary>The parts of an ONNX <c>ModelProto</c> that a chain of layers needs, read from the protobuf bytes.</summary>
internal sealed class OnnxGraph
{
    public List<OnnxNode> Nodes { get; } = [];
    public Dictionary<string, OnnxTensor> Initializers { get; } = new(StringComparer.Ordinal);
    public List<OnnxValue> Inputs { get; } = [];
    public List<OnnxValue> Outputs { get; } = [];

    public static OnnxGraph Parse(byte[] bytes, string source)
    {
        var graph = new OnnxGraph();
        bool found = false;
        var model = new ProtoReader(bytes, source, 0);
        while (model.Next(out int field, out int wire))
        {
            if (field == 7 && wire == 2)
            {
                graph.ReadGraph(model.ReadBytes(out int offset), source, offset);
                found = true;
            }
            else
            {
                model.Skip(wire);
            }
        }
        if (!found) throw new InvalidDataException($"{source}: not a valid ONNX model: it has no graph.");
        // Constant nodes carry tensors too (some exporters put weights there): treat them as initializers.
        foreach (OnnxNode constant in graph.Nodes.Where(n => n.Op == "Constant" && n.Value is not null && n.Outputs.Count == 1).ToList())
        {
            graph.Initializers[constant.Outputs[0]] = constant.Value! with { Name = constant.Outputs[0] };
            graph.Nodes.Remove(constant);
        }
        return graph;
    }

    private void ReadGraph(ReadOnlySpan<byte> bytes, string source, int offset)
    {
        var reader = new ProtoReader(bytes, source, offset);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: Nodes.Add(ReadNode(reader.ReadBytes(out int o), source, o)); break;
                case 5 when wire == 2:
                    OnnxTensor t = ReadTensor(reader.ReadBytes(out int to), source, to);
                    Initializers[t.Name] = t;
                    break;
                case 11 when wire == 2: Inputs.Add(ReadValue(reader.ReadBytes(out int io), source, io)); break;
                case 12 when wire == 2: Outputs.Add(ReadValue(reader.ReadBytes(out int oo), source, oo)); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    private static OnnxNode ReadNode(ReadOnlySpan<byte> bytes, string source, int offset)
    {
        var node = new OnnxNode();
        var reader = new ProtoReader(bytes, source, offset);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: node.Inputs.Add(reader.ReadString()); break;
                case 2 when wire == 2: node.Outputs.Add(reader.ReadString()); break;
                case 3 when wire == 2: node.Name = reader.ReadString(); break;
                case 4 when wire == 2: node.Op = reader.ReadString(); break;
                case 5 when wire == 2: ReadAttribute(node, reader.ReadBytes(out int o), source, o); break;
                default: reader.Skip(wire); break;
            }
        }
        if (node.Name.Length == 0) node.Name = node.Outputs.FirstOrDefault() ?? node.Op;
        return node;
    }

    private static void ReadAttribute(OnnxNode node, ReadOnlySpan<byte> bytes, string source, int offset)
    {
        var reader = new ProtoReader(bytes, source, offset);
        string name = "";
        float? f = null;
        long? i = null;
        var ints = new List<long>();
        OnnxTensor? tensor = null;
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: name = reader.ReadString(); break;
                case 2 when wire == 5: f = reader.ReadFloat(); break;
                case 3 when wire == 0: i = reader.ReadInt64(); break;
                case 5 when wire == 2: tensor = ReadTensor(reader.ReadBytes(out int to), source, to); break;
                case 8: reader.ReadInt64s(wire, ints); break;
                default: reader.Skip(wire); break;
            }
        }
        if (f is float value) node.FloatAttributes[name] = value;
        if (i is long single) node.IntAttributes[name] = [single];
        if (ints.Count > 0) node.IntAttributes[name] = [.. ints];
        if (tensor is not null && name == "value") node.Value = tensor;
    }

    private static OnnxTensor ReadTensor(ReadOnlySpan<byte> bytes, string source, int offset)
    {
        var reader = new ProtoReader(bytes, source, offset);
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        long type = 0;
        string name = "";
        byte[]? raw = null;
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: reader.ReadInt64s(wire, dims); break;
                case 2 when wire == 0: type = reader.ReadInt64(); break;
                case 4: reader.ReadFloats(wire, floats); break;
                case 7: reader.ReadInt64s(wire, longs); break;
                case 8 when wire == 2: name = reader.ReadString(); break;
                case 9 when wire == 2: raw = reader.ReadBytes(out _).ToArray(); break;
                default: reader.Skip(wire); break;
            }
        }
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0 || d > int.MaxValue || (count *= d) > int.MaxValue) throw new InvalidDataException($"{source}: tensor '{name}' has an invalid shape [{string.Join(", ", dims)}].");
        }
        // Other element types (INT64 shapes of Reshape, for instance) are kept without data: using one as a weight is an error.
        if (type == 7)
        {
            long[] values = raw is not null && raw.Length == count * 8
                ? Enumerable.Range(0, (int)count).Select(k => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(8 * k))).ToArray()
                : [.. longs];
            return new OnnxTensor(name, dims, [], type) { Int64Data = values };
        }
        if (type != 1) return new OnnxTensor(name, dims, [], type);
        float[] data;
        if (raw is not null)
        {
            if (raw.Length != count * 4) throw new InvalidDataException($"{source}: tensor '{name}' of shape [{string.Join(", ", dims)}] has {raw.Length} bytes of data, not {count * 4}.");
            data = new float[count];
            for (int k = 0; k < data.Length; k++) data[k] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * k));
        }
        else
        {
            if (floats.Count != count) throw new InvalidDataException($"{source}: tensor '{name}' of shape [{string.Join(", ", dims)}] has {floats.Count} values, not {count}.");
            data = [.. floats];
        }
        return new OnnxTensor(name, dims, data);
    }

    private static OnnxValue ReadValue(ReadOnlySpan<byte> bytes, string source, int offset)
    {
        var reader = new ProtoReader(bytes, source, offset);
        string name = "";
        var dims = new List<long>();
        while (reader.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) name = reader.ReadString();
            else if (field == 2 && wire == 2) ReadType(reader.ReadBytes(out int o), source, o, dims);
            else reader.Skip(wire);
        }
        return new OnnxValue(name, dims);
    }

    /// <summary>TypeProto → tensor_type (1) → shape (2) → dim (1) → dim_value (1); a named (dynamic) dimension reads as 0.</summary>
    private static void ReadType(ReadOnlySpan<byte> bytes, string source, int offset, List<long> dims)
    {
        var type = new ProtoReader(bytes, source, offset);
        while (type.Next(out int field, out int wire))
        {
            if (field != 1 || wire != 2)
            {
                type.Skip(wire);
                continue;
            }
            var tensor = new ProtoReader(type.ReadBytes(out int to), source, to);
            while (tensor.Next(out int tf, out int tw))
            {
                if (tf != 2 || tw != 2)
                {
                    tensor.Skip(tw);
                    continue;
                }
                var shape = new ProtoReader(tensor.ReadBytes(out int so), source, so);
                while (shape.Next(out int sf, out int sw))
                {
                    if (sf != 1 || sw != 2)
                    {
                        shape.Skip(sw);
                        continue;
                    }
                    var dim = new ProtoReader(shape.ReadBytes(out int dO), source, dO);
                    long value = 0;
                    while (dim.Next(out int df, out int dw))
                    {
                        if (df == 1 && dw == 0) value = dim.ReadInt64();
                        else dim.Skip(dw);
                    }
                    dims.Add(value);
                }
            }
        }
    }
}
