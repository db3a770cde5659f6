using System.Buffers.Binary;
using System.Text;

namespace NeuralDescent.Onnx;

/// <summary>
/// Reads the protocol-buffer wire format field by field: varints (0), 64-bit (1), length-delimited (2) and 32-bit (5)
/// values. Every length and offset is checked against the bytes that remain; a bad one is an
/// <see cref="InvalidDataException"/> naming the source and the byte offset.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string source, int baseOffset)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Offset => baseOffset + _position;

    public bool Next(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = wireType = 0;
            return false;
        }
        ulong tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field <= 0) throw Error($"field number {field}");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length) throw Error("a varint runs past the end");
            byte b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Error("a varint longer than 10 bytes");
    }

    public long ReadInt64() => unchecked((long)ReadVarint());

    public float ReadFloat()
    {
        if (_data.Length - _position < 4) throw Error("a 32-bit value runs past the end");
        float value = BinaryPrimitives.ReadSingleLittleEndian(_data[_position..]);
        _position += 4;
        return value;
    }

    /// <summary>A length-delimited value, with the offset of its first byte.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position)) throw Error($"a length of {length} runs past the end ({_data.Length - _position} bytes left)");
        offset = Offset;
        ReadOnlySpan<byte> value = _data.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes(out _));

    /// <summary>A repeated int64 field, packed (wire type 2) or one value (wire type 0).</summary>
    public void ReadInt64s(int wireType, List<long> into)
    {
        if (wireType == 0)
        {
            into.Add(ReadInt64());
            return;
        }
        if (wireType != 2) throw Error($"wire type {wireType} for a repeated integer");
        var packed = new ProtoReader(ReadBytes(out int offset), source, offset);
        while (packed._position < packed._data.Length) into.Add(packed.ReadInt64());
    }

    /// <summary>A repeated float field, packed (wire type 2) or one value (wire type 5).</summary>
    public void ReadFloats(int wireType, List<float> into)
    {
        if (wireType == 5)
        {
            into.Add(ReadFloat());
            return;
        }
        if (wireType != 2) throw Error($"wire type {wireType} for a repeated float");
        ReadOnlySpan<byte> bytes = ReadBytes(out _);
        if (bytes.Length % 4 != 0) throw Error($"{bytes.Length} bytes of packed floats");
        for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadBytes(out _); break;
            case 5: Advance(4); break;
            default: throw Error($"unknown wire type {wireType}");
        }
    }

    private void Advance(int count)
    {
        if (_data.Length - _position < count) throw Error("a fixed-size value runs past the end");
        _position += count;
    }

    public readonly InvalidDataException Error(string problem) => new($"{source}: not a valid ONNX model: {problem} at byte {Offset}.");
}
