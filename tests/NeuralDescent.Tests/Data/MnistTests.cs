using System.Buffers.Binary;
using NeuralDescent.Data;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Data;

[Collection(MnistCollection.Name)]
public sealed class MnistTests(MnistFixture mnist) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-mnist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_BundledData_HasTheOriginalCountsScaleAndLabels()
    {
        DataSplit data = mnist.Data;
        data.Training.Count.Should().Be(60_000);
        data.Test.Count.Should().Be(10_000);
        data.Training.InputSize.Should().Be(784);
        data.Training.TargetSize.Should().Be(10);
        // The first training digit is a 5 and the first test digit a 7 (well known).
        data.Training.GetLabel(0).Should().Be(5);
        data.Test.GetLabel(0).Should().Be(7);
        var pixels = new float[784];
        data.Training.CopyInput(0, pixels);
        pixels.Min().Should().Be(0f);
        pixels.Max().Should().Be(1f);
        var target = new float[10];
        data.Training.CopyTarget(0, target);
        target.Should().Equal(0, 0, 0, 0, 0, 1, 0, 0, 0, 0);
        Enumerable.Range(0, 10_000).Select(data.Test.GetLabel).Distinct().Order().Should().Equal(Enumerable.Range(0, 10));
    }

    private void WritePair(string prefix, int images, int labels, byte labelValue = 3)
    {
        File.WriteAllBytes(Path.Combine(_dir, $"{prefix}-images-idx3-ubyte"), Idx(0x08, [images, 2, 2], new byte[images * 4]));
        File.WriteAllBytes(Path.Combine(_dir, $"{prefix}-labels-idx1-ubyte"), Idx(0x08, [labels], Enumerable.Repeat(labelValue, labels).ToArray()));
    }

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    [Fact]
    public void Load_SmallFixture_WithoutChecksums_Works()
    {
        WritePair("train", 5, 5);
        WritePair("t10k", 2, 2);
        DataSplit data = Mnist.Load(_dir, verifyChecksums: false);
        data.Training.Count.Should().Be(5);
        data.Test.InputSize.Should().Be(4);
    }

    [Fact]
    public void Load_ImageAndLabelCountsDiffer_NamesBothFiles()
    {
        WritePair("train", 5, 4);
        WritePair("t10k", 2, 2);
        FluentActions.Invoking(() => Mnist.Load(_dir, verifyChecksums: false)).Should().Throw<InvalidDataException>()
            .WithMessage("*train-labels-idx1-ubyte: holds 4 labels but *train-images-idx3-ubyte holds 5 images.");
    }

    [Fact]
    public void Load_LabelOutOfRange_NamesSampleAndOffset()
    {
        WritePair("train", 3, 3, labelValue: 12);
        WritePair("t10k", 2, 2);
        FluentActions.Invoking(() => Mnist.Load(_dir, verifyChecksums: false)).Should().Throw<InvalidDataException>()
            .WithMessage("*train-labels-idx1-ubyte: label 12 of sample 0 (offset 8) is not a digit 0–9.");
    }

    [Fact]
    public void Load_ChecksumMismatch_NamesTheFile()
    {
        WritePair("train", 5, 5);
        WritePair("t10k", 2, 2);
        FluentActions.Invoking(() => Mnist.Load(_dir)).Should().Throw<InvalidDataException>()
            .WithMessage("*train-images-idx3-ubyte: SHA-256 of the uncompressed data is *, expected ba891046*");
    }

    [Fact]
    public void Load_MissingFileOrDirectory_SaysWhich()
    {
        FluentActions.Invoking(() => Mnist.Load(Path.Combine(_dir, "nope"))).Should().Throw<DirectoryNotFoundException>().WithMessage("*nope' does not exist.");
        WritePair("train", 1, 1);
        FluentActions.Invoking(() => Mnist.Load(_dir, verifyChecksums: false)).Should().Throw<FileNotFoundException>()
            .WithMessage("MNIST file 't10k-images-idx3-ubyte' (or 't10k-images-idx3-ubyte.gz') is missing*");
    }

    [Theory]
    [InlineData(46341)]
    [InlineData(65537)]
    public void LoadImagesAndLabels_RowsTimesColumnsPastIntRange_IsInvalidData(int side)
    {
        string images = Path.Combine(_dir, "big-images"), labels = Path.Combine(_dir, "big-labels");
        File.WriteAllBytes(images, Idx(0x08, [0, side, side], []));
        File.WriteAllBytes(labels, Idx(0x08, [0], []));
        FluentActions.Invoking(() => Mnist.LoadImagesAndLabels(images, labels)).Should().Throw<InvalidDataException>()
            .WithMessage($"{images}: images of {side}×{side} = {(long)side * side} pixels exceed the 2147483647 features a sample can have.");
    }

    [Fact]
    public void Load_WrongRank_IsRejected()
    {
        File.WriteAllBytes(Path.Combine(_dir, "train-images-idx3-ubyte"), Idx(0x08, [4], new byte[4]));
        File.WriteAllBytes(Path.Combine(_dir, "train-labels-idx1-ubyte"), Idx(0x08, [4], new byte[4]));
        WritePair("t10k", 1, 1);
        FluentActions.Invoking(() => Mnist.Load(_dir, verifyChecksums: false)).Should().Throw<InvalidDataException>()
            .WithMessage("*train-images-idx3-ubyte: expected unsigned-byte images of 3 dimensions*found UnsignedByte of 1 dimension(s).");
    }

    [Fact]
    public void LoadWithoutPath_TakesTheFirstFolderThatHoldsMnist()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        DataSplit data = Mnist.LoadFirstFound([empty, MnistFixture.DataDirectory]);
        data.Training.Count.Should().Be(60_000);
        data.Test.Count.Should().Be(10_000);
    }

    [Fact]
    public void LoadWithoutPath_WhenNoFolderHoldsMnist_SaysWhereItLookedAndHowToGetIt()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        Directory.CreateDirectory(b);
        FluentActions.Invoking(() => Mnist.LoadFirstFound([a, b])).Should().Throw<DirectoryNotFoundException>()
            .WithMessage($"MNIST was not found in '{a}', '{b}': add the NeuralDescent.Data.Mnist package*Mnist.Load(directory).");
    }
}
