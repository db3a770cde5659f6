using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace NeuralDescent.Serialization;

/// <summary>A float32 tensor read from or written to a safetensors file.</summary>
/// <param name="Name">Its name, e.g. <c>0.weight</c>.</param>
/// <param name="Shape">Its dimensions.</param>
/// <param name="Data">Its values, row-major.</param>
internal sealed record Tensor(string Name, long[] Shape, float[] Data);

/// <summary>
/// The safetensors container (Hugging Face): an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
/// tensor name to its dtype, shape and [begin, end) byte offsets into the data that follows, an optional
/// <c>__metadata__</c> object of string values, then the raw little-endian tensor data.
/// </summary>
/// <remarks>
/// Only <c>F32</c> is written or accepted. Reading checks everything before trusting it: the header length against the
/// file length and <see cref="MaxHeaderBytes"/>, strict UTF-8, valid JSON, duplicate names, known dtypes, shapes whose
/// byte size matches their offsets, and offsets that start at 0, neither overlap nor leave gaps, and end exactly at the
/// end of the file. Every failure is an <see cref="InvalidDataException"/> naming the file and the problem.
/// </remarks>
internal static class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes tensors (in the given order) and metadata to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            foreach ((string key, string value) in metadata) writer.WriteString(key, value);
            writer.WriteEndObject();
            long offset = 0;
            foreach (Tensor t in tensors)
            {
                long bytes = (long)t.Data.Length * sizeof(float);
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (long d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            writer.WriteEndObject();
        }
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padding = (int)((8 - json.Length % 8) % 8);
        for (int i = 0; i < padding; i++) json.WriteByte((byte)' ');
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        stream.Write(length);
        json.Position = 0;
        json.CopyTo(stream);
        byte[] buffer = new byte[1 << 16];
        foreach (Tensor t in tensors)
        {
            ReadOnlySpan<float> data = t.Data;
            while (!data.IsEmpty)
            {
                int count = Math.Min(data.Length, buffer.Length / sizeof(float));
                for (int i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), data[i]);
                stream.Write(buffer, 0, count * sizeof(float));
                data = data[count..];
            }
        }
    }

    /// <summary>Reads and validates a whole file: its tensors (in offset order) and metadata.</summary>
    public static (List<Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using FileStream file = IO.ReadableFile.Open(path);
        return Read(file, path);
    }

    /// <summary>Reads and validates a seekable stream holding a whole safetensors file.</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="name">The name errors give for the file.</param>
    /// <param name="skip">Tensors of another dtype than F32 that may be present and are left out (PyTorch's batch-norm
    /// <c>num_batches_tracked</c>, an I64 counter); any other non-F32 tensor is an error.</param>
    public static (List<Tensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string name, Func<string, string, bool>? skip = null)
    {
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || ReadFully(stream, lengthBytes) < 8)
            throw Error(name, $"the file has {fileLength} bytes, fewer than the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Error(name, $"header length {headerLength} (bytes 0–7) runs past the end of the {fileLength}-byte file");
        if (headerLength > MaxHeaderBytes)
            throw Error(name, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2)
            throw Error(name, $"header length {headerLength} is too short for a JSON object");
        byte[] header = new byte[headerLength];
        if (ReadFully(stream, header) != header.Length) throw Error(name, "the header is cut off");

        string text;
        try
        {
            text = StrictUtf8.GetString(header);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(name, $"the header is not valid UTF-8 (at byte {8 + e.Index})");
        }

        long dataLength = fileLength - 8 - (long)headerLength;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, long[] Shape, long Begin, long End, bool Skip)>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Error(name, $"the header is not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Error(name, "the header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Error(name, $"the name '{property.Name}' appears twice in the header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Error(name, "__metadata__ is not an object");
                    foreach (JsonProperty m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Error(name, $"__metadata__ value '{m.Name}' is not a string");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Error(name, $"__metadata__ key '{m.Name}' appears twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(name, property, skip));
            }
        }

        // Offsets must tile [0, dataLength) exactly: sorted, starting at 0, each starting where the previous ended.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin < expected) throw Error(name, $"tensor '{e.Name}' at bytes [{e.Begin}, {e.End}) overlaps the previous tensor, which ends at {expected}");
            if (e.Begin > expected) throw Error(name, $"a gap of {e.Begin - expected} bytes before tensor '{e.Name}' (data bytes [{expected}, {e.Begin}) belong to no tensor)");
            expected = e.End;
        }
        if (expected != dataLength)
        {
            throw expected > dataLength
                ? Error(name, $"tensor data runs past the end of the file: offsets end at {expected} but only {dataLength} data bytes follow the header")
                : Error(name, $"{dataLength - expected} bytes of trailing data after the last tensor");
        }

        var tensors = new List<Tensor>(entries.Count);
        byte[] buffer = new byte[1 << 16];
        foreach (var e in entries)
        {
            if (e.Skip)
            {
                for (long left = e.End - e.Begin; left > 0;)
                {
                    int n = ReadFully(stream, buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)));
                    if (n == 0) throw Error(name, $"tensor '{e.Name}' is cut off");
                    left -= n;
                }
                continue;
            }
            // Sizes are bounded by the file length, checked above, so this allocation is safe.
            var data = new float[(e.End - e.Begin) / sizeof(float)];
            Span<byte> target = MemoryMarshal.AsBytes(data.AsSpan());
            if (ReadFully(stream, target) != target.Length) throw Error(name, $"tensor '{e.Name}' is cut off");
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(target[(i * 4)..]);
            }
            tensors.Add(new Tensor(e.Name, e.Shape, data));
        }
        return (tensors, metadata);
    }

    private static (string, long[], long, long, bool) ParseEntry(string file, JsonProperty property, Func<string, string, bool>? skip)
    {
        string tensor = property.Name;
        JsonElement v = property.Value;
        if (v.ValueKind != JsonValueKind.Object) throw Error(file, $"tensor '{tensor}' is not an object");
        if (!v.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String)
            throw Error(file, $"tensor '{tensor}' has no dtype");
        string type = dtype.GetString()!;
        bool skipped = type != "F32" && skip is not null && skip(tensor, type);
        int elementSize = type switch { "F32" => 4, "I64" or "F64" or "U64" => 8, "I32" or "U32" => 4, "F16" or "BF16" or "I16" or "U16" => 2, "I8" or "U8" or "BOOL" => 1, _ => 0 };
        if (type != "F32" && (!skipped || elementSize == 0))
            throw Error(file, $"tensor '{tensor}' has dtype '{type}'; only F32 is supported");
        if (!v.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error(file, $"tensor '{tensor}' has no shape array");
        var shape = new List<long>();
        long elements = 1;
        foreach (JsonElement d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0 || size > int.MaxValue)
                throw Error(file, $"tensor '{tensor}' has an invalid dimension {d.GetRawText()}");
            shape.Add(size);
            if (size != 0 && elements > long.MaxValue / 8 / size) throw Error(file, $"tensor '{tensor}' has a shape whose size overflows");
            elements *= size;
        }
        if (shape.Count > 8) throw Error(file, $"tensor '{tensor}' has {shape.Count} dimensions; at most 8 are supported");
        if (!v.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Error(file, $"tensor '{tensor}' has no [begin, end] data_offsets");
        // TryGetInt64 throws (rather than returning false) on a non-number, so the kinds are checked first.
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Error(file, $"tensor '{tensor}' has invalid data_offsets {offsets.GetRawText()}");
        if (end - begin != elements * elementSize)
            throw Error(file, $"tensor '{tensor}' of shape [{string.Join(", ", shape)}] needs {elements * elementSize} bytes but its offsets [{begin}, {end}) span {end - begin}");
        if (v.EnumerateObject().Count() != 3)
            throw Error(file, $"tensor '{tensor}' has fields other than dtype, shape and data_offsets");
        return (tensor, [.. shape], begin, end, skipped);
    }

    private static int ReadFully(Stream stream, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = stream.Read(destination[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    internal static InvalidDataException Error(string name, string problem) => new($"{name}: {problem}.");
}
