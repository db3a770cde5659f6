using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralDescent.Layers;

namespace NeuralDescent.Serialization;

/// <summary>
/// Saves and loads networks as safetensors files, with the architecture in the header's <c>__metadata__</c>, so a loaded
/// network predicts bitwise the same as the saved one.
/// </summary>
/// <remarks>
/// <para>Tensor names follow PyTorch's <c>nn.Sequential</c>: layer i's dense weights are <c>i.weight</c> (out × in, the
/// <c>nn.Linear</c> layout) and <c>i.bias</c>; activations occupy their own indices as they do in <c>nn.Sequential</c>.
/// A PyTorch user can <c>safetensors.torch.load_file(path)</c> and <c>load_state_dict</c> it into the matching
/// <c>nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1))</c>.
/// Every layer's parameters and state are saved as <c>i.{name}</c>: <c>i.weight</c> of a <see cref="Conv2D"/> is
/// out × in × kh × kw like <c>nn.Conv2d</c>'s, and <see cref="BatchNorm"/> adds <c>i.running_mean</c> and <c>i.running_var</c>.</para>
/// <para>The metadata key <c>neuraldescent.architecture</c> holds a JSON array of the layers' <see cref="LayerSpec"/>s
/// such as <c>{"type":"Dense","in":784,"out":128}</c>, rebuilt through <see cref="LayerRegistry"/>, and
/// <c>neuraldescent.input_shape</c> the input shape; initializers are not recorded (the weights are).</para>
/// <para>Saving is atomic (temporary file, flush, rename); loading is hardened (see the exceptions).</para>
/// <para>Thread safety: saving and loading may run on many threads; two saves to one path leave one complete file (the
/// last rename wins). Save a network while no thread trains it.</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>The metadata key that holds the architecture.</summary>
    public const string ArchitectureKey = "neuraldescent.architecture";

    /// <summary>The metadata key that holds the input shape, <c>[channels,height,width]</c>.</summary>
    public const string InputShapeKey = "neuraldescent.input_shape";

    /// <summary>The metadata key that names the format version.</summary>
    public const string FormatKey = "neuraldescent.format";

    /// <summary>Saves <paramref name="network"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="NotSupportedException">A layer does not describe itself (<see cref="ILayer.Describe"/> returns null) or its type is not registered with <see cref="LayerRegistry"/>.</exception>
    public static void Save(Network network, string path) => Save(network, path, null);

    internal static void Save(Network network, string path, Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(network);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = Describe(network);
        AtomicFile.Write(path, stream => SafeTensors.Write(stream, tensors, metadata), wrap);
    }

    /// <summary>Loads a network saved by <see cref="Save(Network, string)"/> (or the network of a <see cref="Checkpoint"/>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The network, with the saved weights.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid model: a bad header length, invalid JSON or UTF-8, an unknown dtype, offsets that overlap, leave gaps or run past the end, duplicate names, a missing or unknown architecture, layer types not registered with <see cref="LayerRegistry"/>, tensors whose shapes do not match it, or non-finite weights. The message names the file and the problem.</exception>
    /// <exception cref="IOException">The path is a directory, does not exist (<see cref="FileNotFoundException"/>) or cannot be read.</exception>
    public static Network Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = SafeTensors.Read(path);
        // A checkpoint is also a model: its optimizer and trainer tensors are skipped.
        if (metadata.ContainsKey("neuraldescent.checkpoint.epoch"))
            tensors.RemoveAll(t => t.Name.StartsWith("optimizer.", StringComparison.Ordinal) || t.Name.StartsWith("trainer.", StringComparison.Ordinal));
        return Build(path, tensors, metadata);
    }

    /// <summary>Writes <paramref name="network"/> to <paramref name="stream"/> in the model-file format (the caller owns the stream; nothing is atomic here).</summary>
    /// <param name="network">The network.</param>
    /// <param name="stream">A writable stream, left open.</param>
    /// <exception cref="NotSupportedException">A layer does not describe itself or its type is not registered with <see cref="LayerRegistry"/>.</exception>
    public static void Save(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = Describe(network);
        SafeTensors.Write(stream, tensors, metadata);
    }

    /// <summary>Loads a network from a stream holding a model file, with the checks of <see cref="Load(string)"/>.</summary>
    /// <param name="stream">The file's bytes (read to the end; copied first when the stream cannot seek).</param>
    /// <returns>The network, with the saved weights.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a valid model; the message says what is wrong.</exception>
    public static Network Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using Stream seekable = Seekable(stream);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = SafeTensors.Read(seekable, "stream");
        if (metadata.ContainsKey("neuraldescent.checkpoint.epoch"))
            tensors.RemoveAll(t => t.Name.StartsWith("optimizer.", StringComparison.Ordinal) || t.Name.StartsWith("trainer.", StringComparison.Ordinal));
        return Build("stream", tensors, metadata);
    }

    /// <summary>
    /// Copies the weights of a plain safetensors file (a PyTorch <c>state_dict</c> saved with
    /// <c>safetensors.torch.save_file</c>, no NeuralDescent metadata needed) into <paramref name="network"/>, as
    /// <c>load_state_dict(strict=True)</c> does: layer i's tensors are <c>i.weight</c>, <c>i.bias</c>,
    /// <c>i.running_mean</c>…, as in an <c>nn.Sequential</c> with the same layers; every one must be present with the
    /// network's shape, and the file may hold no other tensor (PyTorch's I64 <c>num_batches_tracked</c> counters are
    /// ignored). Nothing is changed unless every tensor fits.
    /// </summary>
    /// <param name="network">The network to fill.</param>
    /// <param name="path">The safetensors file.</param>
    /// <exception cref="InvalidDataException">A tensor is missing, has another shape, holds a non-finite value, or belongs to no layer; the message names the file and the tensor.</exception>
    public static void LoadWeights(Network network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = IO.ReadableFile.Open(path);
        LoadWeights(network, file, path);
    }

    /// <summary><see cref="LoadWeights(Network, string)"/> from a stream.</summary>
    /// <param name="network">The network to fill.</param>
    /// <param name="stream">The safetensors bytes (copied first when the stream cannot seek).</param>
    /// <exception cref="InvalidDataException">A tensor is missing, has another shape, holds a non-finite value, or belongs to no layer.</exception>
    public static void LoadWeights(Network network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        using Stream seekable = Seekable(stream);
        LoadWeights(network, seekable, "stream");
    }

    private static void LoadWeights(Network network, Stream stream, string name)
    {
        (List<Tensor> tensors, _) = SafeTensors.Read(stream, name, (tensor, dtype) => dtype == "I64" && tensor.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (Tensor t in tensors) byName[t.Name] = t;
        // Check everything first, then copy: a file that does not fit leaves the network as it was.
        var used = new HashSet<string>(StringComparer.Ordinal);
        var scratch = new List<(float[] Data, Action<float[]> Store)>();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            foreach (Parameter p in network.Layers[i].Parameters)
            {
                float[] values = new float[p.Values.Length];
                Fill(name, byName, used, i, p.Name, p.Dimensions, values);
                Parameter target = p;
                scratch.Add((values, v => v.CopyTo(target.Values)));
            }
            foreach (StateTensor s in network.Layers[i].State)
            {
                float[] values = new float[s.Values.Length];
                Fill(name, byName, used, i, s.Name, s.Dimensions, values);
                StateTensor target = s;
                scratch.Add((values, v => v.CopyTo(target.Values)));
            }
        }
        string? extra = byName.Keys.FirstOrDefault(n => !used.Contains(n));
        if (extra is not null) throw SafeTensors.Error(name, $"tensor '{extra}' belongs to no layer of the network (strict loading)");
        foreach ((float[] data, Action<float[]> store) in scratch) store(data);
    }

    private static Stream Seekable(Stream stream)
    {
        if (stream.CanSeek) return new NonClosingStream(stream);
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return copy;
    }

    /// <summary>Lets a using block end without closing the caller's stream.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length - _start;
        public override long Position { get => inner.Position - _start; set => inner.Position = value + _start; }
        private readonly long _start = inner.Position;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => origin == SeekOrigin.Begin ? inner.Seek(offset + _start, SeekOrigin.Begin) - _start : inner.Seek(offset, origin) - _start;
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    internal static (List<Tensor> Tensors, Dictionary<string, string> Metadata) Describe(Network network)
    {
        var architecture = new JsonArray();
        var tensors = new List<Tensor>();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            ILayer layer = network.Layers[i];
            LayerSpec spec = layer.Describe()
                ?? throw new NotSupportedException($"Layer {i} ({layer.Name}, {layer.GetType().Name}) cannot be saved: it does not describe itself. Implement ILayer.Describe and register its type with LayerRegistry.Register.");
            if (!LayerRegistry.IsRegistered(spec.Type))
                throw new NotSupportedException($"Layer {i} ({layer.Name}) has type '{spec.Type}', which no factory is registered for, so the file could not be loaded; call LayerRegistry.Register(\"{spec.Type}\", …) first.");
            var json = new JsonObject { ["type"] = spec.Type };
            foreach ((string key, double value) in spec.Attributes) json[key] = value;
            architecture.Add((JsonNode)json);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (Parameter p in layer.Parameters)
            {
                if (!names.Add(p.Name)) throw new NotSupportedException($"Layer {i} ({layer.Name}) has two tensors named '{p.Name}'.");
                tensors.Add(new Tensor($"{i}.{p.Name}", [.. p.Dimensions.Select(d => (long)d)], p.Values.ToArray()));
            }
            foreach (StateTensor t in layer.State)
            {
                if (!names.Add(t.Name)) throw new NotSupportedException($"Layer {i} ({layer.Name}) has two tensors named '{t.Name}'.");
                tensors.Add(new Tensor($"{i}.{t.Name}", [.. t.Dimensions.Select(d => (long)d)], t.Values.ToArray()));
            }
        }
        Shape input = network.InputShape;
        var metadata = new Dictionary<string, string>
        {
            [FormatKey] = "1",
            [ArchitectureKey] = architecture.ToJsonString(),
            [InputShapeKey] = $"[{input.Channels},{input.Height},{input.Width}]",
        };
        return (tensors, metadata);
    }

    internal static Network Build(string file, List<Tensor> tensors, Dictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(ArchitectureKey, out string? json))
            throw SafeTensors.Error(file, $"__metadata__ has no '{ArchitectureKey}': not a NeuralDescent model");
        List<LayerSpec> specs = ParseArchitecture(file, json);
        Shape? input = metadata.TryGetValue(InputShapeKey, out string? shapeText) ? ParseShape(file, shapeText) : null;
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long fileValues = 0;
        foreach (Tensor t in tensors)
        {
            byName[t.Name] = t;
            fileValues += t.Data.Length;
        }

        // Layers may allocate no more values than the file holds (plus a little for layers whose state is not saved),
        // so a forged architecture cannot ask for gigabytes before its tensors are checked.
        var layers = new ILayer[specs.Count];
        using (TensorSize.Budget(file, fileValues + 4096))
        {
            for (int i = 0; i < specs.Count; i++)
            {
                try
                {
                    layers[i] = LayerRegistry.Create(specs[i]);
                }
                catch (ArgumentException e)
                {
                    throw SafeTensors.Error(file, $"architecture entry {i} ({specs[i].Type}): {e.Message.TrimEnd('.')}");
                }
            }
        }
        Network network;
        try
        {
            network = input is Shape shape ? new Network(0, shape, layers) : new Network(0, layers);
        }
        catch (ArgumentException e)
        {
            throw SafeTensors.Error(file, $"the architecture does not chain: {e.Message.TrimEnd('.')}");
        }
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Length; i++)
        {
            foreach (Parameter p in layers[i].Parameters) Fill(file, byName, used, i, p.Name, p.Dimensions, p.Values);
            foreach (StateTensor t in layers[i].State) Fill(file, byName, used, i, t.Name, t.Dimensions, t.Values);
        }
        string? extra = byName.Keys.FirstOrDefault(n => !used.Contains(n));
        if (extra is not null) throw SafeTensors.Error(file, $"tensor '{extra}' belongs to no layer of the architecture");
        return network;
    }

    /// <summary>Copies tensor <c>{layer}.{name}</c> into <paramref name="destination"/> after checking its shape and values.</summary>
    private static void Fill(string file, Dictionary<string, Tensor> byName, HashSet<string> used, int layer, string name, IReadOnlyList<int> dimensions, Span<float> destination)
    {
        string key = $"{layer}.{name}";
        if (!byName.TryGetValue(key, out Tensor? t)) throw SafeTensors.Error(file, $"tensor '{key}' for layer {layer} is missing");
        if (!t.Shape.SequenceEqual(dimensions.Select(d => (long)d)))
            throw SafeTensors.Error(file, $"tensor '{key}' has shape [{string.Join(", ", t.Shape)}] but layer {layer} of the architecture needs [{string.Join(", ", dimensions)}]");
        int bad = Array.FindIndex(t.Data, v => !float.IsFinite(v));
        if (bad >= 0) throw SafeTensors.Error(file, $"tensor '{key}' holds {t.Data[bad]} at index {bad}; weights must be finite");
        t.Data.CopyTo(destination);
        used.Add(key);
    }

    /// <summary>Copies the tensors of a model description into a network with the same architecture (used to resume a checkpoint).</summary>
    internal static void CopyInto(Network network, IReadOnlyList<Tensor> tensors)
    {
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < network.Layers.Count; i++)
        {
            foreach (Parameter p in network.Layers[i].Parameters) Fill("checkpoint", byName, used, i, p.Name, p.Dimensions, p.Values);
            foreach (StateTensor t in network.Layers[i].State) Fill("checkpoint", byName, used, i, t.Name, t.Dimensions, t.Values);
        }
    }

    private static List<LayerSpec> ParseArchitecture(string file, string json)
    {
        // JsonDocument keeps repeated keys (JsonObject would throw ArgumentException on them), so they are reported here.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw SafeTensors.Error(file, $"the architecture is not valid JSON: {e.Message}");
        }
        using (document)
        {
            JsonElement array = document.RootElement;
            if (array.ValueKind != JsonValueKind.Array) throw SafeTensors.Error(file, "the architecture is not a JSON array");
            if (array.GetArrayLength() == 0) throw SafeTensors.Error(file, "the architecture has no layers");
            var specs = new List<LayerSpec>(array.GetArrayLength());
            int i = 0;
            foreach (JsonElement entry in array.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object) throw SafeTensors.Error(file, $"architecture entry {i} is not an object");
                string? type = null;
                var attributes = new List<(string, double)>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (JsonProperty property in entry.EnumerateObject())
                {
                    if (!seen.Add(property.Name)) throw SafeTensors.Error(file, $"architecture entry {i} has '{property.Name}' twice");
                    if (property.Name == "type")
                    {
                        if (property.Value.ValueKind != JsonValueKind.String) throw SafeTensors.Error(file, $"architecture entry {i} has a type that is not a string");
                        type = property.Value.GetString();
                    }
                    else if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetDouble(out double number) && double.IsFinite(number))
                    {
                        attributes.Add((property.Name, number));
                    }
                    else
                    {
                        throw SafeTensors.Error(file, $"architecture entry {i} needs a number '{property.Name}'");
                    }
                }
                if (string.IsNullOrEmpty(type)) throw SafeTensors.Error(file, $"architecture entry {i} has no type");
                var spec = new LayerSpec(type);
                foreach ((string key, double value) in attributes) spec.With(key, value);
                specs.Add(spec);
                i++;
            }
            return specs;
        }
    }

    private static Shape ParseShape(string file, string text)
    {
        string[] parts = text.Trim('[', ']').Split(',');
        if (parts.Length == 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c > 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) && h > 0
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int w) && w > 0
            && (long)c * h * w <= int.MaxValue)
            return new Shape(c, h, w);
        throw SafeTensors.Error(file, $"'{InputShapeKey}' = '{text}' is not [channels,height,width]");
    }
}
