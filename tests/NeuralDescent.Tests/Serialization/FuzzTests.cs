using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;
using NeuralDescent.Serialization;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Serialization;

/// <summary>
/// Seeded mutations of every file format the library reads: random byte edits, and structured edits of the JSON header
/// and of the architecture inside it. Each mutant must load (and then work) or fail with an InvalidDataException, never
/// another exception type, and no load may allocate more than 100 MB.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Trials = 10_000;
    private const long AllocationLimit = 100L << 20;
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Network SmallCnn() => new(1, Shape.Image(1, 6, 6),
        new Conv2D(1, 2, 3, padding: 1), new BatchNorm(2), new ReLU(), new MaxPool2D(2), new Dropout(0.1f),
        new Flatten(), new Dense(18, 4), new LeakyReLU(0.1f), new Dense(4, 3), new Softmax());

    private byte[] ModelBytes()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(SmallCnn(), path);
        return File.ReadAllBytes(path);
    }

    private byte[] CheckpointBytes()
    {
        var data = Dataset.FromLabels(Rand.Floats(40 * 36, 1, 0f, 1f), 36, Enumerable.Range(0, 40).Select(i => i % 3).ToArray(), 3);
        string path = Path.Combine(_dir, "checkpoint.safetensors");
        var options = new TrainerOptions { Epochs = 1, BatchSize = 8, ValidationSplit = 0.25, Callbacks = [new ModelCheckpoint(path)] };
        new Trainer(new CrossEntropyCost(), new Adam(0.01f), options).Fit(SmallCnn(), data);
        return File.ReadAllBytes(path);
    }

    private static byte[] IdxBytes()
    {
        // 5 images of 4×3 unsigned bytes.
        var bytes = new List<byte> { 0, 0, 0x08, 3 };
        foreach (int d in new[] { 5, 4, 3 }) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        for (int i = 0; i < 60; i++) bytes.Add((byte)(i * 37));
        return [.. bytes];
    }

    public static TheoryData<string> Formats() => new() { "model", "checkpoint", "idx" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Mutants_LoadOrThrowInvalidData_WithBoundedAllocation(string format)
    {
        byte[] valid = format switch { "model" => ModelBytes(), "checkpoint" => CheckpointBytes(), _ => IdxBytes() };
        Action<string> load = format switch
        {
            "model" => p =>
            {
                Network network = ModelFile.Load(p);
                network.Predict(new float[network.InputSize]); // whatever loads must work
            },
            "checkpoint" => p => Checkpoint.Load(p),
            _ => p => IdxReader.Read(p),
        };
        var random = new RandomGenerator(format == "model" ? 11UL : format == "checkpoint" ? 12UL : 13UL);
        string path = Path.Combine(_dir, "mutant");
        int loaded = 0, rejected = 0;
        for (int trial = 0; trial < Trials; trial++)
        {
            byte[] mutant = format != "idx" && random.NextInt32(2) == 0 ? MutateHeader(valid, random) : MutateBytes(valid, random);
            File.WriteAllBytes(path, mutant);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                load(path);
                loaded++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{format} mutation {trial} threw {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationLimit) Assert.Fail($"{format} mutation {trial} allocated {allocated:N0} bytes.");
        }
        (loaded + rejected).Should().Be(Trials);
        rejected.Should().BeGreaterThan(Trials / 3);
    }

    private static byte[] MutateBytes(byte[] source, RandomGenerator random)
    {
        var bytes = new List<byte>(source);
        int edits = 1 + random.NextInt32(3);
        for (int e = 0; e < edits; e++)
        {
            int position = random.NextInt32(Math.Max(1, bytes.Count));
            switch (random.NextInt32(5))
            {
                case 0: if (bytes.Count > 0) bytes[position] ^= (byte)(1 << random.NextInt32(8)); break;
                case 1: if (bytes.Count > 0) bytes[position] = (byte)random.NextInt32(256); break;
                case 2: bytes.RemoveRange(position, Math.Min(bytes.Count - position, 1 + random.NextInt32(8))); break;
                case 3: bytes.Insert(position, (byte)random.NextInt32(256)); break;
                default: if (bytes.Count > 0) bytes.RemoveRange(position, bytes.Count - position); break;
            }
        }
        return [.. bytes];
    }

    private static readonly string[] Numbers = ["0", "-1", "1", "2", "3", "2.5", "1e12", "2147483648", "-2147483649", "9999999999999999999999", "null", "\"7\"", "true", "[]", "{}", "1e-400", "1e400"];

    /// <summary>One structured edit of the safetensors header or of the architecture JSON inside it; the data is kept.</summary>
    private static byte[] MutateHeader(byte[] source, RandomGenerator random)
    {
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(source);
        string json = Encoding.UTF8.GetString(source, 8, (int)headerLength);
        var header = (JsonObject)JsonNode.Parse(json)!;
        var metadata = (JsonObject)header["__metadata__"]!;
        string[] tensorNames = header.Select(p => p.Key).Where(k => k != "__metadata__").ToArray();
        string Pick(IReadOnlyList<string> items) => items[random.NextInt32(items.Count)];
        string text;
        switch (random.NextInt32(6))
        {
            case 0: // a tensor's shape, dtype or offsets
            {
                var tensor = (JsonObject)header[Pick(tensorNames)]!;
                string field = Pick(["shape", "data_offsets", "dtype"]);
                tensor[field] = field == "dtype"
                    ? JsonValue.Create(Pick(["F16", "F64", "I32", "f32", ""]))
                    : JsonNode.Parse($"[{Pick(Numbers)},{Pick(Numbers)}{(random.NextInt32(2) == 0 ? "," + Pick(Numbers) : "")}]");
                text = header.ToJsonString();
                break;
            }
            case 1: // a metadata value replaced
            {
                string key = Pick(metadata.Select(p => p.Key).ToArray());
                metadata[key] = Pick(["", "-1", "2147483648", "abc", "Infinity", "NaN", "[1,2]", "[]", "0", ",,", "exp_avg", "[1,28,28]", "[0,1,1]"]);
                text = header.ToJsonString();
                break;
            }
            case 2: // a layer attribute of the architecture
            case 3:
            {
                var layers = (JsonArray)JsonNode.Parse(metadata[ModelFile.ArchitectureKey]!.GetValue<string>())!;
                var layer = (JsonObject)layers[random.NextInt32(layers.Count)]!;
                string[] keys = layer.Select(p => p.Key).ToArray();
                switch (random.NextInt32(4))
                {
                    case 0: layer[Pick(keys)] = JsonNode.Parse(Pick(Numbers)); break;
                    case 1: layer.Remove(Pick(keys)); break;
                    case 2: layer["type"] = Pick(["Dense", "Conv2D", "BatchNorm", "MaxPool2D", "Flatten", "Softmax", "Tests.Unknown", ""]); break;
                    default: layers.RemoveAt(random.NextInt32(layers.Count)); break;
                }
                metadata[ModelFile.ArchitectureKey] = layers.ToJsonString();
                text = header.ToJsonString();
                break;
            }
            case 4: // a duplicated key inside the architecture, in the text
            {
                string architecture = metadata[ModelFile.ArchitectureKey]!.GetValue<string>();
                int brace = architecture.IndexOf('{', random.NextInt32(architecture.Length));
                if (brace >= 0) architecture = architecture.Insert(brace + 1, $"\"{Pick(["type", "in", "out", "kernel", "features"])}\":{Pick(Numbers)},");
                metadata[ModelFile.ArchitectureKey] = architecture;
                text = header.ToJsonString();
                break;
            }
            default: // a duplicated tensor entry or metadata key, in the header text
            {
                text = header.ToJsonString();
                string name = Pick(tensorNames);
                text = text.Insert(1, $"\"{name}\":{header[name]!.ToJsonString()},");
                break;
            }
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(text);
        int padded = (headerBytes.Length + 7) & ~7;
        var result = new byte[8 + padded + (source.Length - 8 - (int)headerLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        headerBytes.CopyTo(result, 8);
        result.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        source.AsSpan(8 + (int)headerLength).CopyTo(result.AsSpan(8 + padded));
        return result;
    }
}
