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
/// <see cref="Standardize"/> layers store <c>i.mean</c> and <c>i.std</c> (no PyTorch counterpart).</para>
/// <para>The metadata key <c>neuraldescent.architecture</c> holds a JSON array of layer descriptions such as
/// <c>{"type":"Dense","in":784,"out":128}</c>; initializers are not recorded (the weights are).</para>
/// <para>Saving is atomic (temporary file, flush, rename); loading is hardened (see the exceptions).</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>The metadata key that holds the architecture.</summary>
    public const string ArchitectureKey = "neuraldescent.architecture";

    /// <summary>The metadata key that names the format version.</summary>
    public const string FormatKey = "neuraldescent.format";

    /// <summary>Saves <paramref name="network"/> to <paramref name="path"/> atomically.</summary>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="NotSupportedException">A layer type cannot be saved (a custom <see cref="ILayer"/>).</exception>
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
    /// <exception cref="InvalidDataException">The file is not a valid model: a bad header length, invalid JSON or UTF-8, an unknown dtype, offsets that overlap, leave gaps or run past the end, duplicate names, a missing or unknown architecture, or tensors whose shapes do not match it. The message names the file and the problem.</exception>
    public static Network Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = SafeTensors.Read(path);
        // A checkpoint is also a model: its optimizer and trainer tensors are skipped.
        if (metadata.ContainsKey("neuraldescent.checkpoint.epoch"))
            tensors.RemoveAll(t => t.Name.StartsWith("optimizer.", StringComparison.Ordinal) || t.Name.StartsWith("trainer.", StringComparison.Ordinal));
        return Build(path, tensors, metadata);
    }

    internal static (List<Tensor> Tensors, Dictionary<string, string> Metadata) Describe(Network network)
    {
        var architecture = new JsonArray();
        var tensors = new List<Tensor>();
        for (int i = 0; i < network.Layers.Count; i++)
        {
            ILayer layer = network.Layers[i];
            JsonObject spec = layer switch
            {
                Dense d => new JsonObject { ["type"] = "Dense", ["in"] = d.InputSize, ["out"] = d.OutputSize },
                LeakyReLU l => new JsonObject { ["type"] = "LeakyReLU", ["slope"] = l.Slope },
                Dropout d => new JsonObject { ["type"] = "Dropout", ["rate"] = d.Rate },
                Standardize s => new JsonObject { ["type"] = "Standardize", ["size"] = s.InputSize },
                ReLU or Sigmoid or Tanh or Softmax or Step => new JsonObject { ["type"] = layer.Name },
                _ => throw new NotSupportedException($"Layer {i} ({layer.Name}, {layer.GetType().Name}) cannot be saved: only the built-in layers can."),
            };
            architecture.Add((JsonNode)spec);
            if (layer is Dense dense)
            {
                tensors.Add(new Tensor($"{i}.weight", [dense.OutputSize, dense.InputSize], dense.Weights.Values.ToArray()));
                tensors.Add(new Tensor($"{i}.bias", [dense.OutputSize], dense.Biases.Values.ToArray()));
            }
            else if (layer is Standardize standardize)
            {
                tensors.Add(new Tensor($"{i}.mean", [standardize.InputSize], [.. standardize.Mean]));
                tensors.Add(new Tensor($"{i}.std", [standardize.InputSize], [.. standardize.StandardDeviation]));
            }
        }
        var metadata = new Dictionary<string, string>
        {
            [FormatKey] = "1",
            [ArchitectureKey] = architecture.ToJsonString(),
        };
        return (tensors, metadata);
    }

    internal static Network Build(string file, List<Tensor> tensors, Dictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(ArchitectureKey, out string? json))
            throw SafeTensors.Error(file, $"__metadata__ has no '{ArchitectureKey}': not a NeuralDescent model");
        JsonArray specs;
        try
        {
            specs = JsonNode.Parse(json) as JsonArray ?? throw SafeTensors.Error(file, "the architecture is not a JSON array");
        }
        catch (JsonException e)
        {
            throw SafeTensors.Error(file, $"the architecture is not valid JSON: {e.Message}");
        }
        if (specs.Count == 0) throw SafeTensors.Error(file, "the architecture has no layers");
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (Tensor t in tensors) byName[t.Name] = t;
        var used = new HashSet<string>(StringComparer.Ordinal);

        Tensor Take(int layer, string suffix, params long[] shape)
        {
            string name = $"{layer}.{suffix}";
            if (!byName.TryGetValue(name, out Tensor? t)) throw SafeTensors.Error(file, $"tensor '{name}' for layer {layer} is missing");
            if (!t.Shape.SequenceEqual(shape))
                throw SafeTensors.Error(file, $"tensor '{name}' has shape [{string.Join(", ", t.Shape)}] but layer {layer} of the architecture needs [{string.Join(", ", shape)}]");
            used.Add(name);
            return t;
        }

        var layers = new List<ILayer>();
        var loaders = new List<Action>();
        for (int i = 0; i < specs.Count; i++)
        {
            if (specs[i] is not JsonObject spec || spec["type"]?.GetValueKind() != JsonValueKind.String)
                throw SafeTensors.Error(file, $"architecture entry {i} has no type");
            string type = spec["type"]!.GetValue<string>();
            int index = i;
            switch (type)
            {
                case "Dense":
                {
                    int input = Int(file, spec, "in", i), output = Int(file, spec, "out", i);
                    // Shapes are checked against the tensors (whose sizes the file length bounds) before the layer allocates anything.
                    Tensor w = Take(i, "weight", output, input), b = Take(i, "bias", output);
                    var dense = new Dense(input, output);
                    loaders.Add(() =>
                    {
                        w.Data.CopyTo(dense.Weights.Values);
                        b.Data.CopyTo(dense.Biases.Values);
                    });
                    layers.Add(dense);
                    break;
                }
                case "Standardize":
                {
                    int size = Int(file, spec, "size", i);
                    Tensor mean = Take(i, "mean", size), std = Take(i, "std", size);
                    try
                    {
                        layers.Add(new Standardize(mean.Data, std.Data));
                    }
                    catch (ArgumentException e)
                    {
                        throw SafeTensors.Error(file, $"layer {index} Standardize: {e.Message}");
                    }
                    break;
                }
                case "LeakyReLU":
                    layers.Add(Construct(file, i, () => new LeakyReLU(Float(file, spec, "slope", index))));
                    break;
                case "Dropout":
                    layers.Add(Construct(file, i, () => new Dropout(Float(file, spec, "rate", index))));
                    break;
                case "ReLU": layers.Add(new ReLU()); break;
                case "Sigmoid": layers.Add(new Sigmoid()); break;
                case "Tanh": layers.Add(new Tanh()); break;
                case "Softmax": layers.Add(new Softmax()); break;
                case "Step": layers.Add(new Step()); break;
                default: throw SafeTensors.Error(file, $"architecture entry {i} has unknown layer type '{type}'");
            }
        }
        string? extra = byName.Keys.FirstOrDefault(n => !used.Contains(n));
        if (extra is not null) throw SafeTensors.Error(file, $"tensor '{extra}' belongs to no layer of the architecture");
        Network network;
        try
        {
            network = new Network(0, [.. layers]);
        }
        catch (ArgumentException e)
        {
            throw SafeTensors.Error(file, $"the architecture does not chain: {e.Message}");
        }
        foreach (Action load in loaders) load();
        return network;
    }

    private static ILayer Construct(string file, int layer, Func<ILayer> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw SafeTensors.Error(file, $"architecture entry {layer}: {e.Message}");
        }
    }

    private static int Int(string file, JsonObject spec, string key, int layer)
    {
        JsonNode? node = spec[key];
        if (node is null || node.GetValueKind() != JsonValueKind.Number || !int.TryParse(node.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
            throw SafeTensors.Error(file, $"architecture entry {layer} needs a positive integer '{key}'");
        return value;
    }

    private static float Float(string file, JsonObject spec, string key, int layer)
    {
        JsonNode? node = spec[key];
        if (node is null || node.GetValueKind() != JsonValueKind.Number || !float.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            throw SafeTensors.Error(file, $"architecture entry {layer} needs a number '{key}'");
        return value;
    }
}
