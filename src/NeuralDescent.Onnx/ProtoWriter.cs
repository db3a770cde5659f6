using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace NeuralDescent.Onnx;

/// <summary>
/// The protocol-buffer wire format, as much of it as an ONNX model needs: varints (wire type 0), 32-bit values
/// (wire type 5) and length-delimited fields (wire type 2: strings, bytes and nested messages). A nested message is
/// written into its own writer and then copied in with its length, so no sizes are computed ahead.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>A varint field (int32, int64, enum, bool), written even when 0.</summary>
    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A float field (fixed 32 bits, little-endian).</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    /// <summary>A UTF-8 string field.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    /// <summary>A nested message field.</summary>
    public ProtoWriter Message(int field, ProtoWriter message)
    {
        Tag(field, 2);
        WriteVarint((ulong)message._buffer.WrittenCount);
        _buffer.Write(message._buffer.WrittenSpan);
        return this;
    }

    /// <summary>Copies the message's bytes to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream) => stream.Write(_buffer.WrittenSpan);

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.Write([(byte)(value | 0x80)]);
            value >>= 7;
        }
        _buffer.Write([(byte)value]);
    }
}
