namespace NeuralDescent.Data;

/// <summary>The element types of the IDX format (the third byte of an IDX file's magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>0x08: unsigned byte (MNIST pixels and labels).</summary>
    UnsignedByte = 0x08,

    /// <summary>0x09: signed byte.</summary>
    SignedByte = 0x09,

    /// <summary>0x0B: 16-bit signed integer, big-endian.</summary>
    Int16 = 0x0B,

    /// <summary>0x0C: 32-bit signed integer, big-endian.</summary>
    Int32 = 0x0C,

    /// <summary>0x0D: 32-bit IEEE float, big-endian.</summary>
    Single = 0x0D,

    /// <summary>0x0E: 64-bit IEEE float, big-endian.</summary>
    Double = 0x0E,
}
