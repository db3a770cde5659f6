namespace NeuralDescent.Data;

/// <summary>
/// Zalando's Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60,000 training and 10,000 test images of clothing,
/// 28×28 grey pixels, in ten classes (<see cref="ClassNames"/>), in MNIST's file format, a harder drop-in for MNIST.
/// </summary>
/// <remarks>
/// The publishers give MD5 checksums of the four gzip files (<see cref="Md5"/>); downloads and loads of <c>.gz</c>
/// files are checked against them. Raw (uncompressed) files have no published checksum and are loaded unchecked.
/// The dataset is under the MIT licence.
/// </remarks>
public static class FashionMnist
{
    /// <summary>The MD5 of each published gzip file, by file name.</summary>
    public static IReadOnlyDictionary<string, string> Md5 { get; } = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte.gz"] = "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ["train-labels-idx1-ubyte.gz"] = "25c81989df183df01b3e8a0aad5dffbe",
        ["t10k-images-idx3-ubyte.gz"] = "bef4ecab320f06d8554ea6380940ec79",
        ["t10k-labels-idx1-ubyte.gz"] = "bb300cfdad3c16e7a12a480ee83cd310",
    };

    /// <summary>Class names by label: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Where <see cref="DownloadAsync"/> looks, in order: the publishers' GitHub repository, then their S3 bucket.</summary>
    public static IReadOnlyList<Uri> Mirrors { get; } =
    [
        new("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    ];

    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = Timeout.InfiniteTimeSpan });

    /// <summary>
    /// Downloads the four Fashion-MNIST files into <paramref name="directory"/>, as <see cref="Mnist.DownloadAsync"/>
    /// does for MNIST: mirror by mirror, into a temporary file, kept only when its MD5 matches <see cref="Md5"/>.
    /// </summary>
    /// <param name="directory">The folder to fill (created if needed).</param>
    /// <param name="progress">Bytes received per file, as they arrive.</param>
    /// <param name="cancellationToken">Stops the download; nothing partial is left behind.</param>
    /// <exception cref="IOException">No mirror gave a valid copy of a file; the message lists what each mirror did.</exception>
    public static Task DownloadAsync(string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => DownloadWithAsync(directory, NewDownloader(SharedClient.Value, Mirrors, TimeSpan.FromSeconds(30)), Md5, progress, cancellationToken);

    internal static Downloader NewDownloader(HttpClient client, IReadOnlyList<Uri> mirrors, TimeSpan stall) => new(client, mirrors, stall)
    {
        Digest = Downloader.Md5OfFileAsync,
        DigestName = "MD5",
        DatasetName = "Fashion-MNIST",
        LoadCall = "FashionMnist.Load(directory)",
    };

    internal static async Task DownloadWithAsync(string directory, Downloader downloader, IReadOnlyDictionary<string, string> md5, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        foreach ((string name, string hash) in md5)
            await downloader.FetchAsync(directory, name, hash, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads Fashion-MNIST from <paramref name="directory"/> (the four files, gzip or raw), checking each <c>.gz</c> against <see cref="Md5"/>.</summary>
    /// <returns>Training (60,000) and test (10,000) sets: pixels scaled by 1/255, one-hot targets of 10 classes.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or fails its checksum; the message names the file.</exception>
    public static DataSplit Load(string directory) => Load(directory, Md5);

    internal static DataSplit Load(string directory, IReadOnlyDictionary<string, string> md5)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Fashion-MNIST directory '{directory}' does not exist.");
        foreach ((string name, string hash) in md5)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path)) continue;
            string actual = Downloader.Md5OfFileAsync(path, CancellationToken.None).GetAwaiter().GetResult();
            if (actual != hash) throw new InvalidDataException($"{path}: MD5 {actual} is not the published {hash}; the file is damaged or not Fashion-MNIST.");
        }
        return Mnist.Load(directory, verifyChecksums: false);
    }
}
