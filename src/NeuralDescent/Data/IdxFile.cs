using System.Buffers.Binary;

namespace NeuralDescent.Data;

/// <summary>The contents of an IDX file: element type, dimensions and the raw element bytes.</summary>
/// <remarks>
/// Layout of the format: bytes 0–1 are zero, byte 2 the <see cref="IdxDataType"/>, byte 3 the number of dimensions d;
/// then d big-endian 32-bit sizes; then the elements, big-endian, in row-major order (last dimension fastest).
/// </remarks>
public sealed class IdxFile
{
    private readonly int[] _dimensions;

    internal IdxFile(IdxDataType dataType, int[] dimensions, byte[] data)
    {
        DataType = dataType;
        _dimensions = dimensions;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public IdxDataType DataType { get; }

    /// <summary>The sizes of the dimensions, outermost first (60000, 28, 28 for MNIST training images).</summary>
    public IReadOnlyList<int> Dimensions => _dimensions;

    /// <summary>The elements' bytes as stored: big-endian, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements, the product of the dimensions.</summary>
    public long ElementCount => Data.LongLength / ElementSize(DataType);

    /// <summary>Bytes per element of a type.</summary>
    /// <param name="type">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    public static int ElementSize(IdxDataType type) => type switch
    {
        IdxDataType.UnsignedByte or IdxDataType.SignedByte => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Single => 4,
        IdxDataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    /// <summary>Converts every element to float (doubles and 32-bit integers are rounded to the nearest float).</summary>
    /// <returns>The elements in row-major order.</returns>
    public float[] ToSingleArray()
    {
        var result = new float[ElementCount];
        ReadOnlySpan<byte> d = Data;
        switch (DataType)
        {
            case IdxDataType.UnsignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = d[i];
                break;
            case IdxDataType.SignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)d[i];
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(d[(2 * i)..]);
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(d[(4 * i)..]);
                break;
            case IdxDataType.Single:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleBigEndian(d[(4 * i)..]);
                break;
            case IdxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(d[(8 * i)..]);
                break;
        }
        return result;
    }
}
