using System.Buffers.Binary;
using System.IO.Compression;

namespace NeuralDescent.Data;

/// <summary>Reads IDX files (LeCun's format for MNIST), raw or gzip-compressed, with every header value checked before it is trusted.</summary>
/// <remarks>
/// Errors are <see cref="InvalidDataException"/>s that name the file and what is wrong: a bad magic number, an
/// unsupported type byte, a dimension count of 0, dimensions whose product overflows, data shorter than the header
/// declares (truncated) or longer (trailing garbage). Memory is allocated in proportion to the data actually present,
/// never to an unchecked header value.
/// </remarks>
public static class IdxReader
{
    /// <summary>The largest number of data bytes accepted (the largest .NET byte array).</summary>
    public static long MaxDataBytes => Array.MaxLength;

    /// <summary>The largest number of dimensions accepted.</summary>
    public const int MaxDimensions = 16;

    /// <summary>Reads an IDX file from disk; gzip is detected from its magic bytes (1F 8B), not from the name.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The parsed file.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file; the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static IdxFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = IO.ReadableFile.Open(path);
        return Read(file, path);
    }

    /// <summary>Reads an IDX file from a stream (raw or gzip).</summary>
    /// <param name="stream">The stream, positioned at the start of the file.</param>
    /// <param name="name">The name to use in error messages.</param>
    /// <returns>The parsed file.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX file.</exception>
    public static IdxFile Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> first = stackalloc byte[2];
        int got = ReadAtMost(stream, first);
        bool gzip = got == 2 && first[0] == 0x1F && first[1] == 0x8B;
        Stream body = new PrefixedStream(first[..got].ToArray(), stream);
        if (gzip) body = new GZipStream(body, CompressionMode.Decompress);
        try
        {
            return Parse(body, name, gzip ? " (after gzip decompression)" : "", gzip ? null : (stream.CanSeek ? stream.Length : null));
        }
        catch (InvalidDataException e) when (gzip && !e.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name}: corrupt gzip stream: {e.Message}", e);
        }
        finally
        {
            body.Dispose();
        }
    }

    private static IdxFile Parse(Stream s, string name, string where, long? totalLength)
    {
        Span<byte> header = stackalloc byte[4];
        int got = ReadAtMost(s, header);
        if (got < 4) throw Error(name, $"truncated header{where}: expected 4 bytes of magic number, found {got}");
        if (header[0] != 0 || header[1] != 0)
            throw Error(name, $"wrong magic number{where}: bytes 0–1 are 0x{header[0]:X2} 0x{header[1]:X2}, expected 0x00 0x00 (is this an IDX file?)");
        var type = (IdxDataType)header[2];
        if (!Enum.IsDefined(type))
            throw Error(name, $"unsupported data type byte 0x{header[2]:X2} at offset 2{where}; IDX types are 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E");
        int rank = header[3];
        if (rank == 0 || rank > MaxDimensions)
            throw Error(name, $"invalid dimension count {rank} at offset 3{where}; expected 1 to {MaxDimensions}");

        var dimensions = new int[rank];
        Span<byte> dimension = stackalloc byte[4];
        int elementSize = IdxFile.ElementSize(type);
        long dataBytes = elementSize;
        for (int i = 0; i < rank; i++)
        {
            long offset = 4 + 4L * i;
            if (ReadAtMost(s, dimension) < 4) throw Error(name, $"truncated header{where}: dimension {i} at offset {offset} is cut off");
            int size = BinaryPrimitives.ReadInt32BigEndian(dimension);
            if (size < 0) throw Error(name, $"dimension {i} at offset {offset} is negative ({size}){where}");
            dimensions[i] = size;
            dataBytes *= size;
            if (dataBytes > MaxDataBytes)
                throw Error(name, $"dimensions {string.Join('×', dimensions[..(i + 1)])}{(i + 1 < rank ? "×…" : "")} of {elementSize}-byte {type} overflow the {MaxDataBytes}-byte limit{where}");
        }

        long headerBytes = 4 + 4L * rank;
        if (totalLength is long length)
        {
            // A raw file's length is known: check it before allocating anything the header asks for.
            long present = length - headerBytes;
            if (present < dataBytes)
                throw Error(name, $"truncated data: header declares {dataBytes} bytes ({Shape(dimensions)} {type}) after offset {headerBytes} but only {present} follow");
            if (present > dataBytes)
                throw Error(name, $"trailing garbage: data continues past the {dataBytes} bytes the header declares ({Shape(dimensions)} {type}), at offset {headerBytes + dataBytes} ({present - dataBytes} extra bytes)");
        }

        byte[] data = ReadExactlyGrowing(s, dataBytes, out long read);
        if (read < dataBytes)
            throw Error(name, $"truncated data: header declares {dataBytes} bytes ({Shape(dimensions)} {type}) after offset {headerBytes} but only {read} follow{where}");
        Span<byte> extra = stackalloc byte[1];
        if (ReadAtMost(s, extra) != 0)
            throw Error(name, $"trailing garbage: data continues past the {dataBytes} bytes the header declares ({Shape(dimensions)} {type}), at offset {headerBytes + dataBytes}{where}");
        return new IdxFile(type, dimensions, data);
    }

    /// <summary>Reads up to <paramref name="expected"/> bytes, growing the buffer as data arrives so a lying header cannot force a huge allocation.</summary>
    private static byte[] ReadExactlyGrowing(Stream s, long expected, out long read)
    {
        const int InitialChunk = 1 << 20;
        byte[] buffer = new byte[Math.Min(expected, InitialChunk)];
        read = 0;
        while (read < expected)
        {
            if (read == buffer.Length)
            {
                long grown = Math.Min(expected, Math.Max(buffer.LongLength * 2, InitialChunk));
                Array.Resize(ref buffer, (int)grown);
            }
            int n = s.Read(buffer, (int)read, (int)(buffer.Length - read));
            if (n == 0) break;
            read += n;
        }
        return buffer;
    }

    private static int ReadAtMost(Stream s, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = s.Read(destination[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static string Shape(int[] dimensions) => string.Join('×', dimensions);

    private static InvalidDataException Error(string name, string problem) => new($"{name}: {problem}.");

    /// <summary>A read-only stream that first returns a few already-consumed bytes, then the rest of another stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return inner.Read(buffer);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
