using System.Buffers.Binary;
using System.IO.Compression;
using NeuralDescent.Data;

namespace NeuralDescent.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var z = new GZipStream(file, CompressionLevel.Optimal);
            z.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_WellFormed_ReturnsTypeDimensionsAndData(bool gzip)
    {
        string path = Write("ok", Idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]), gzip);
        IdxFile file = IdxReader.Read(path);
        file.DataType.Should().Be(IdxDataType.UnsignedByte);
        file.Dimensions.Should().Equal(2, 3);
        file.Data.Should().Equal(1, 2, 3, 4, 5, 6);
        file.ToSingleArray().Should().Equal(1, 2, 3, 4, 5, 6);
    }

    [Fact]
    public void Read_BigEndianTypes_Convert()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(data, 1.5f);
        BinaryPrimitives.WriteInt16BigEndian(data.AsSpan(4), -300);
        IdxReader.Read(Write("f", Idx(0x0D, [1], data[..4]))).ToSingleArray().Should().Equal(1.5f);
        IdxReader.Read(Write("s", Idx(0x0B, [1], data[4..6]))).ToSingleArray().Should().Equal(-300f);
    }

    public static TheoryData<string, byte[], string> BadFiles() => new()
    {
        { "wrong magic", [0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7], "*wrong magic number*0x01 0x00*" },
        { "unsupported type", [0, 0, 0x07, 0x01, 0, 0, 0, 1, 7], "*unsupported data type byte 0x07 at offset 2*" },
        { "zero dimensions", [0, 0, 0x08, 0x00], "*invalid dimension count 0 at offset 3*" },
        { "truncated header", [0, 0, 0x08, 0x02, 0, 0, 0, 1, 0, 0], "*truncated header*dimension 1 at offset 8*" },
        { "truncated data", Idx(0x08, [2, 3], [1, 2, 3]), "*truncated data: header declares 6 bytes (2×3 UnsignedByte) after offset 12 but only 3 follow*" },
        { "trailing garbage", Idx(0x08, [2], [1, 2, 3]), "*trailing garbage: data continues past the 2 bytes the header declares (2 UnsignedByte), at offset 10*" },
        { "negative dimension", Idx(0x08, [-5], []), "*dimension 0 at offset 4 is negative (-5)*" },
        { "overflowing dimensions", Idx(0x0E, [65536, 65536, 65536], []), "*dimensions 65536×65536×… of 8-byte Double overflow*" },
        { "short magic", [0, 0], "*truncated header*found 2*" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Read_BadRawFile_ThrowsInvalidDataNamingFileAndProblem(string name, byte[] bytes, string message)
    {
        string path = Write(name.Replace(' ', '-'), bytes);
        FluentActions.Invoking(() => IdxReader.Read(path)).Should().Throw<InvalidDataException>()
            .WithMessage(path + ": " + message.TrimStart('*'));
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Read_BadGzipFile_ThrowsInvalidDataNamingFileAndProblem(string name, byte[] bytes, string message)
    {
        string path = Write(name.Replace(' ', '-') + ".gz", bytes, gzip: true);
        FluentActions.Invoking(() => IdxReader.Read(path)).Should().Throw<InvalidDataException>()
            .WithMessage(path + ": " + message.TrimStart('*'));
    }

    [Fact]
    public void Read_GzipHeaderClaimingGigabytes_FailsWithoutAllocatingThem()
    {
        // 1 GB declared, 10 bytes present: must fail as truncated, allocating in proportion to what is there.
        string path = Write("huge.gz", Idx(0x08, [1_000_000_000], new byte[10]), gzip: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        FluentActions.Invoking(() => IdxReader.Read(path)).Should().Throw<InvalidDataException>().WithMessage("*truncated data*only 10 follow*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(16 << 20);
    }

    [Fact]
    public void Read_CorruptGzip_ThrowsInvalidDataNamingFile()
    {
        byte[] gz;
        using (var ms = new MemoryStream())
        {
            using (var z = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(Idx(0x08, [1000], new byte[1000]));
            gz = ms.ToArray();
        }
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        string path = Write("corrupt.gz", gz);
        FluentActions.Invoking(() => IdxReader.Read(path)).Should().Throw<InvalidDataException>().WithMessage(path + ":*");
    }
}
