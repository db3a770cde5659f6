using System.Buffers.Binary;
using System.Security.Cryptography;

namespace NeuralDescent.Data;

/// <summary>
/// Loads the MNIST handwritten digits (LeCun, Cortes and Burges): 60,000 training and 10,000 test images of
/// 28×28 grey pixels, scaled to [0, 1], with labels 0–9.
/// </summary>
/// <remarks>
/// The directory must hold the four original IDX files, raw or gzip-compressed (<c>.gz</c>):
/// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>.
/// By default each file's uncompressed bytes are checked against the published SHA-256 (<see cref="Sha256"/>).
/// </remarks>
public static class Mnist
{
    /// <summary>Pixels per image side.</summary>
    public const int ImageSide = 28;

    /// <summary>Pixels per image, 784.</summary>
    public const int ImageSize = ImageSide * ImageSide;

    /// <summary>Number of classes, 10.</summary>
    public const int ClassCount = 10;

    /// <summary>The SHA-256 of each original (uncompressed) file, by base name.</summary>
    public static IReadOnlyDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    /// <summary>
    /// Where <see cref="DownloadAsync"/> looks, in order: the copies torchvision and TensorFlow use (the original
    /// gzip files). Each file is checked against <see cref="Sha256"/> before it is kept, whichever mirror it came from.
    /// </summary>
    public static IReadOnlyList<Uri> Mirrors { get; } =
    [
        new("https://ossci-datasets.s3.amazonaws.com/mnist/"),
        new("https://storage.googleapis.com/cvdf-datasets/mnist/"),
    ];

    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = Timeout.InfiniteTimeSpan });

    /// <summary>
    /// Downloads the four MNIST files (gzip) into <paramref name="directory"/> for <see cref="Load(string, bool)"/>:
    /// each from the first of <see cref="Mirrors"/> that serves it, into a temporary file, kept (renamed into place) only
    /// when its decompressed bytes match <see cref="Sha256"/>. Files already there and valid are not fetched again; a
    /// mirror that refuses, stalls for 30 s, ends early or serves other bytes is skipped for the next.
    /// </summary>
    /// <param name="directory">The folder to fill (created if needed).</param>
    /// <param name="progress">Bytes received per file, as they arrive.</param>
    /// <param name="cancellationToken">Stops the download; nothing partial is left behind.</param>
    /// <exception cref="IOException">No mirror gave a valid copy of a file (offline, for instance); the message lists what each mirror did.</exception>
    public static Task DownloadAsync(string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => DownloadWithAsync(directory, new Downloader(SharedClient.Value, Mirrors, TimeSpan.FromSeconds(30)), progress, cancellationToken);

    internal static async Task DownloadWithAsync(string directory, Downloader downloader, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        foreach ((string name, string sha256) in Sha256)
            await downloader.FetchAsync(directory, name + ".gz", sha256, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The folder name <see cref="Load()"/> looks for, next to the program and in the working directory.</summary>
    public const string DefaultFolder = "mnist";

    /// <summary>
    /// Loads MNIST from the first of these folders that holds it: <c>mnist/</c> beside the program (where the
    /// <c>NeuralDescent.Data.Mnist</c> package copies the files), <c>mnist/</c> in the working directory, then
    /// <c>data/mnist/</c> in the working directory (a clone of this repository). Every file is checked against
    /// <see cref="Sha256"/>.
    /// </summary>
    /// <returns>Training (60,000) and test (10,000) sets: pixels scaled by 1/255, one-hot targets of 10 classes.</returns>
    /// <exception cref="DirectoryNotFoundException">None of the folders holds the files; the message says where it looked and how to get them.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or fails its checksum; the message names the file.</exception>
    public static DataSplit Load() => LoadFirstFound(
    [
        Path.Combine(AppContext.BaseDirectory, DefaultFolder),
        Path.GetFullPath(DefaultFolder),
        Path.GetFullPath(Path.Combine("data", DefaultFolder)),
    ]);

    /// <summary>Loads MNIST from the first of <paramref name="candidates"/> that holds the training images.</summary>
    internal static DataSplit LoadFirstFound(IReadOnlyList<string> candidates)
    {
        foreach (string candidate in candidates)
        {
            if (File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte")))
                return Load(candidate);
        }
        throw new DirectoryNotFoundException(
            $"MNIST was not found in {string.Join(", ", candidates.Select(c => $"'{c}'"))}: add the NeuralDescent.Data.Mnist package (dotnet add package NeuralDescent.Data.Mnist), or pass the folder holding the four IDX files to Mnist.Load(directory).");
    }

    /// <summary>Loads the training and test sets from <paramref name="directory"/>.</summary>
    /// <param name="directory">The folder with the four IDX files.</param>
    /// <param name="verifyChecksums">Check each file against <see cref="Sha256"/>; turn off for MNIST-format data such as Fashion-MNIST or test fixtures.</param>
    /// <returns>Training (60,000) and test (10,000) sets: pixels scaled by 1/255, one-hot targets of 10 classes.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file is missing (neither raw nor .gz).</exception>
    /// <exception cref="InvalidDataException">A file is malformed, fails its checksum, or images and labels disagree; the message names the file.</exception>
    public static DataSplit Load(string directory, bool verifyChecksums = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"MNIST directory '{directory}' does not exist.");
        Dataset training = LoadPair(directory, "train", verifyChecksums);
        Dataset test = LoadPair(directory, "t10k", verifyChecksums);
        return new DataSplit(training, test);
    }

    /// <summary>Loads one images/labels pair (e.g. <c>train</c> or <c>t10k</c>) as a dataset.</summary>
    /// <param name="imagesPath">An IDX file of unsigned bytes with 3 dimensions (count × rows × columns).</param>
    /// <param name="labelsPath">An IDX file of unsigned bytes with 1 dimension (count), values 0–9.</param>
    /// <returns>The dataset, pixels scaled by 1/255.</returns>
    /// <exception cref="InvalidDataException">A file is malformed or the two disagree; the message names the file.</exception>
    public static Dataset LoadImagesAndLabels(string imagesPath, string labelsPath)
    {
        IdxFile images = IdxReader.Read(imagesPath);
        IdxFile labels = IdxReader.Read(labelsPath);
        return ToDataset(images, imagesPath, labels, labelsPath);
    }

    private static Dataset LoadPair(string directory, string prefix, bool verify)
    {
        string imagesName = $"{prefix}-images-idx3-ubyte", labelsName = $"{prefix}-labels-idx1-ubyte";
        string imagesPath = Find(directory, imagesName), labelsPath = Find(directory, labelsName);
        IdxFile images = IdxReader.Read(imagesPath);
        IdxFile labels = IdxReader.Read(labelsPath);
        if (verify)
        {
            Verify(images, imagesPath, Sha256[imagesName]);
            Verify(labels, labelsPath, Sha256[labelsName]);
        }
        return ToDataset(images, imagesPath, labels, labelsPath);
    }

    private static Dataset ToDataset(IdxFile images, string imagesPath, IdxFile labels, string labelsPath)
    {
        if (images.DataType != IdxDataType.UnsignedByte || images.Dimensions.Count != 3)
            throw new InvalidDataException($"{imagesPath}: expected unsigned-byte images of 3 dimensions (count×rows×columns), found {images.DataType} of {images.Dimensions.Count} dimension(s).");
        if (labels.DataType != IdxDataType.UnsignedByte || labels.Dimensions.Count != 1)
            throw new InvalidDataException($"{labelsPath}: expected unsigned-byte labels of 1 dimension, found {labels.DataType} of {labels.Dimensions.Count} dimension(s).");
        int count = images.Dimensions[0];
        if (labels.Dimensions[0] != count)
            throw new InvalidDataException($"{labelsPath}: holds {labels.Dimensions[0]} labels but {imagesPath} holds {count} images.");
        long pixelCount = (long)images.Dimensions[1] * images.Dimensions[2];
        if (pixelCount == 0) throw new InvalidDataException($"{imagesPath}: images of {images.Dimensions[1]}×{images.Dimensions[2]} pixels are empty.");
        if (pixelCount > int.MaxValue)
            throw new InvalidDataException($"{imagesPath}: images of {images.Dimensions[1]}×{images.Dimensions[2]} = {pixelCount} pixels exceed the {int.MaxValue} features a sample can have.");
        int pixels = (int)pixelCount;
        var classes = new int[count];
        for (int i = 0; i < count; i++)
        {
            byte label = labels.Data[i];
            if (label >= ClassCount)
                throw new InvalidDataException($"{labelsPath}: label {label} of sample {i} (offset {8 + i}) is not a digit 0–9.");
            classes[i] = label;
        }
        return Dataset.FromBytes(images.Data, pixels, classes, ClassCount, 1f / 255f);
    }

    private static string Find(string directory, string name)
    {
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        if (File.Exists(gz)) return gz;
        throw new FileNotFoundException($"MNIST file '{name}' (or '{name}.gz') is missing from '{directory}'.", raw);
    }

    private static void Verify(IdxFile file, string path, string expected)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[4 + 4 * file.Dimensions.Count];
        header[2] = (byte)file.DataType;
        header[3] = (byte)file.Dimensions.Count;
        for (int i = 0; i < file.Dimensions.Count; i++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], file.Dimensions[i]);
        hash.AppendData(header);
        hash.AppendData(file.Data);
        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != expected)
            throw new InvalidDataException($"{path}: SHA-256 of the uncompressed data is {actual}, expected {expected}; the file is damaged or not the original MNIST.");
    }
}
