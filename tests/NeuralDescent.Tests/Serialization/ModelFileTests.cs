using System.Buffers.Binary;
using System.Text;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;
using NeuralDescent.Serialization;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Serialization;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static Network SampleNetwork()
    {
        var data = Dataset.FromLabels(Rand.Floats(40 * 6, 1), 6, Enumerable.Range(0, 40).Select(i => i % 3).ToArray(), 3);
        return new Network(7, Standardize.Fit(data), new Dense(6, 5), new LeakyReLU(0.1f), new Dropout(0.25f), new Dense(5, 4), new Tanh(), new Dense(4, 3), new Softmax());
    }

    [Fact]
    public void SaveLoad_RoundTrip_PredictsBitwiseTheSame()
    {
        Network network = SampleNetwork();
        string path = PathOf("model.safetensors");
        ModelFile.Save(network, path);
        Network loaded = ModelFile.Load(path);

        loaded.ToString().Should().Be(network.ToString());
        float[] x = Rand.Floats(6 * 9, 3);
        var a = new float[3 * 9];
        var b = new float[3 * 9];
        network.PredictBatch(x, a, 9);
        loaded.PredictBatch(x, b, 9);
        b.Select(BitConverter.SingleToInt32Bits).Should().Equal(a.Select(BitConverter.SingleToInt32Bits));
        loaded.Parameters.SelectMany(p => p.Values.ToArray()).Should().Equal(network.Parameters.SelectMany(p => p.Values.ToArray()));
    }

    [Fact]
    public void Save_WritesSafetensorsWithPyTorchNamesAndLayout()
    {
        var network = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        string path = PathOf("mlp.safetensors");
        ModelFile.Save(network, path);
        byte[] bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        (headerLength % 8).Should().Be(0);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        header.Should().Contain("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[128,784],\"data_offsets\":[0,401408]}");
        header.Should().Contain("\"2.bias\":{\"dtype\":\"F32\",\"shape\":[10]");
        header.Should().Contain("neuraldescent.architecture");
        bytes.Length.Should().Be(8 + (int)headerLength + 4 * (784 * 128 + 128 + 128 * 10 + 10));
        // The first weight, little-endian, right after the header: W[0, 0].
        BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength)).Should().Be(network.Parameters[0].Values[0]);
    }

    [Fact]
    public void Save_InterruptedMidway_LeavesTheOldFileIntactAndNoTemporaryFile()
    {
        string path = PathOf("model.safetensors");
        ModelFile.Save(SampleNetwork(), path);
        byte[] before = File.ReadAllBytes(path);
        var bigger = new Network(2, new Dense(300, 300), new ReLU(), new Dense(300, 3));
        FluentActions.Invoking(() => ModelFile.Save(bigger, path, s => new FailingStream(s, failAfterBytes: 50_000)))
            .Should().Throw<IOException>().WithMessage("Simulated failure*");
        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(_dir).Should().ContainSingle();
        ModelFile.Load(path).ToString().Should().Be(SampleNetwork().ToString());
    }

    [Fact]
    public void Save_CustomLayer_IsRefusedWithItsName()
    {
        var network = new Network(new Dense(2, 2), new CustomLayer());
        FluentActions.Invoking(() => ModelFile.Save(network, PathOf("x"))).Should().Throw<NotSupportedException>().WithMessage("Layer 1 (Custom, CustomLayer) cannot be saved*");
    }

    private byte[] ValidBytes()
    {
        string path = PathOf("valid.safetensors");
        ModelFile.Save(new Network(1, new Dense(3, 2), new Sigmoid()), path);
        return File.ReadAllBytes(path);
    }

    /// <summary>A file with the given header JSON (padded to 8 bytes) and data bytes.</summary>
    private string Craft(string name, string header, int dataBytes, bool rawHeaderBytes = false, byte[]? headerBytes = null)
    {
        byte[] h = headerBytes ?? Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        string path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private const string Arch = "\"__metadata__\":{\"neuraldescent.architecture\":\"[{\\\"type\\\":\\\"Dense\\\",\\\"in\\\":3,\\\"out\\\":2},{\\\"type\\\":\\\"Sigmoid\\\"}]\"}";

    public static TheoryData<string, string, int, string> BadHeaders() => new()
    {
        { "invalid-json", "{\"0.weight\": [", 0, "*the header is not valid JSON*" },
        { "unknown-dtype", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "*tensor '0.weight' has dtype 'F16'; only F32 is supported*" },
        { "overlap", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]}}", 28, "*tensor '0.bias' at bytes [20, 28) overlaps the previous tensor, which ends at 24*" },
        { "gap", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[28,36]}}", 36, "*a gap of 4 bytes before tensor '0.bias'*" },
        { "past-end", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}", 30, "*tensor data runs past the end of the file: offsets end at 32 but only 30 data bytes follow*" },
        { "size-mismatch", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20, "*tensor '0.weight' of shape [2, 3] needs 24 bytes but its offsets [0, 20) span 20*" },
        { "wrong-shape", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}", 32, "*tensor '0.weight' has shape [3, 2] but layer 0 of the architecture needs [2, 3]*" },
        { "duplicate", "{" + Arch + ",\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "*the name '0.bias' appears twice in the header*" },
        { "missing-tensor", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, "*tensor '0.bias' for layer 0 is missing*" },
        { "extra-tensor", "{" + Arch + ",\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},\"9.x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}}", 36, "*tensor '9.x' belongs to no layer of the architecture*" },
        { "no-architecture", "{\"0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "*__metadata__ has no 'neuraldescent.architecture'*" },
        { "huge-dense", "{\"__metadata__\":{\"neuraldescent.architecture\":\"[{\\\"type\\\":\\\"Dense\\\",\\\"in\\\":2000000000,\\\"out\\\":2000000000}]\"}}", 0, "*architecture entry 0 (Dense)*tensor 'weight' of shape [2000000000×2000000000]*" },
        { "unknown-layer", "{\"__metadata__\":{\"neuraldescent.architecture\":\"[{\\\"type\\\":\\\"Conv2d\\\"}]\"}}", 0, "*architecture entry 0 (Conv2d): unknown layer type 'Conv2d'*LayerRegistry.Register*" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Load_BadFile_ThrowsInvalidDataNamingTheProblem(string name, string header, int dataBytes, string message)
    {
        string path = Craft(name, header, dataBytes);
        FluentActions.Invoking(() => ModelFile.Load(path)).Should().Throw<InvalidDataException>().WithMessage(path + ": " + message.TrimStart('*'));
    }

    [Fact]
    public void Load_HeaderLengthPastTheEnd_OrAboveTheCap_IsRejectedBeforeAllocating()
    {
        byte[] bytes = ValidBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        string path = PathOf("long-header");
        File.WriteAllBytes(path, bytes);
        FluentActions.Invoking(() => ModelFile.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*header length 1099511627776 (bytes 0–7) runs past the end*");

        // A sparse 200 MB file whose header claims 150 MB: within the file, above the 100 MB cap.
        string sparse = PathOf("sparse");
        using (var file = File.Create(sparse))
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, 150_000_000);
            file.Write(length);
            file.SetLength(200_000_000);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => ModelFile.Load(sparse)).Should().Throw<InvalidDataException>().WithMessage("*header length 150000000 exceeds the 100000000-byte limit*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1 << 20);
    }

    [Fact]
    public void Load_NonUtf8Header_IsRejected()
    {
        byte[] header = Encoding.UTF8.GetBytes("{\"a\":\"xx\"}");
        header[7] = 0xFF; // not a valid UTF-8 byte
        string path = Craft("utf8", "", 0, headerBytes: header);
        FluentActions.Invoking(() => ModelFile.Load(path)).Should().Throw<InvalidDataException>().WithMessage("*the header is not valid UTF-8 (at byte 15)*");
    }

    private sealed class CustomLayer : ActivationLayer
    {
        public override string Name => "Custom";

        protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => input.CopyTo(output);

        protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width) => outputGradient.CopyTo(inputGradient);
    }
}

/// <summary>A write-only stream that throws after a number of bytes, to simulate a crash or a full disk mid-save.</summary>
internal sealed class FailingStream(Stream inner, long failAfterBytes) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > failAfterBytes) throw new IOException("Simulated failure: the disk is full.");
        _written += buffer.Length;
        inner.Write(buffer);
    }
}
