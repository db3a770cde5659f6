using System.Net;
using System.Net.Sockets;
using NeuralDescent.Data;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Data;

/// <summary>
/// <see cref="Mnist.DownloadAsync"/> against a loopback HTTP server that serves good, truncated, corrupted and stalling
/// copies of the bundled files, plus a port where nothing listens.
/// </summary>
public sealed class MnistDownloadTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("nd-download-").FullName;
    private readonly string _source = MnistFixture.DataDirectory;
    private readonly Task _serving;
    private readonly int _port;

    public MnistDownloadTests()
    {
        _port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Download_FromAGoodMirror_GivesFilesThatLoad_AndReportsProgress()
    {
        var reports = new List<DownloadProgress>();
        await Mnist.DownloadWithAsync(_dir, Downloader("good"), new SynchronousProgress<DownloadProgress>(reports.Add), TestContext.Current.CancellationToken);

        DataSplit data = Mnist.Load(_dir);
        data.Training.Count.Should().Be(60_000);
        data.Test.Count.Should().Be(10_000);
        Directory.GetFiles(_dir).Select(Path.GetFileName).Should().BeEquivalentTo(Mnist.Sha256.Keys.Select(k => k + ".gz"), "nothing temporary is left");
        DownloadProgress last = reports.Last(r => r.File == "train-images-idx3-ubyte.gz");
        last.BytesReceived.Should().Be(new FileInfo(Path.Combine(_source, "train-images-idx3-ubyte.gz")).Length);
        last.TotalBytes.Should().Be(last.BytesReceived);
    }

    [Fact]
    public async Task Download_SkipsMirrorsThatRefuseTruncateCorruptOrStall_ForTheNextOne()
    {
        await Mnist.DownloadWithAsync(_dir, Downloader("refused", "truncated", "corrupt", "slow", "good"), null, TestContext.Current.CancellationToken);
        Mnist.Load(_dir).Training.Count.Should().Be(60_000);
    }

    [Fact]
    public async Task Download_WhenNoMirrorGivesAValidCopy_SaysWhatEachDid_AndKeepsNothing()
    {
        Func<Task> download = () => Mnist.DownloadWithAsync(_dir, Downloader("refused", "truncated", "corrupt", "slow", "missing"), null, TestContext.Current.CancellationToken);
        (await download.Should().ThrowAsync<IOException>()).Which.Message.Should()
            .StartWith("Could not download train-images-idx3-ubyte.gz from any mirror (")
            .And.Contain("/refused/train-images-idx3-ubyte.gz: Connection refused")
            .And.Contain("/truncated/train-images-idx3-ubyte.gz: ")
            .And.Contain("/corrupt/train-images-idx3-ubyte.gz: ")
            .And.Contain(FormattableString.Invariant($"/slow/train-images-idx3-ubyte.gz: no data arrived for {SlowMirrorStallLimit} s"))
            .And.Contain("/missing/train-images-idx3-ubyte.gz: HTTP 404")
            .And.EndWith("check the internet connection, or put the four MNIST files in '" + _dir + "' by hand and call Mnist.Load(directory).");
        Directory.GetFiles(_dir).Should().BeEmpty("a file is kept only after its checksum passed");
    }

    [Fact]
    public async Task Download_KeepsValidFilesAlreadyThere_AndCancellationLeavesNothingPartial()
    {
        File.Copy(Path.Combine(_source, "t10k-labels-idx1-ubyte.gz"), Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"));
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<DownloadProgress>(p => { if (p.BytesReceived > 100_000) cancel.Cancel(); });
        Func<Task> download = () => Mnist.DownloadWithAsync(_dir, Downloader("good"), progress, cancel.Token);
        await download.Should().ThrowAsync<OperationCanceledException>();
        Directory.GetFiles(_dir).Select(Path.GetFileName).Should().Equal("t10k-labels-idx1-ubyte.gz");
    }

    [Fact]
    public async Task FashionMnist_DownloadsAndLoads_CheckingEachGzipAgainstItsMd5()
    {
        // Fashion-MNIST is not on this machine: the bundled MNIST files stand in, with their own MD5s as the table.
        var md5 = new Dictionary<string, string>();
        foreach (string name in Mnist.Sha256.Keys.Select(k => k + ".gz"))
            md5[name] = await NeuralDescent.Data.Downloader.Md5OfFileAsync(Path.Combine(_source, name), TestContext.Current.CancellationToken);
        var downloader = FashionMnist.NewDownloader(new HttpClient(), [new Uri($"http://127.0.0.1:{_port}/corrupt/"), new Uri($"http://127.0.0.1:{_port}/good/")], TimeSpan.FromSeconds(10));
        await FashionMnist.DownloadWithAsync(_dir, downloader, md5, null, TestContext.Current.CancellationToken);
        FashionMnist.Load(_dir, md5).Training.Count.Should().Be(60_000);

        // A file that no longer matches its published MD5 is refused by Load, naming it.
        await File.AppendAllTextAsync(Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"), "x", TestContext.Current.CancellationToken);
        FluentActions.Invoking(() => FashionMnist.Load(_dir, md5)).Should().Throw<InvalidDataException>()
            .WithMessage("*t10k-labels-idx1-ubyte.gz: MD5 * is not the published *");

        var offline = FashionMnist.NewDownloader(new HttpClient(), [new Uri($"http://127.0.0.1:{FreePort()}/")], TimeSpan.FromSeconds(10));
        Func<Task> nowhere = () => FashionMnist.DownloadWithAsync(Path.Combine(_dir, "other"), offline, md5, null, TestContext.Current.CancellationToken);
        (await nowhere.Should().ThrowAsync<IOException>()).Which.Message.Should()
            .EndWith("put the four Fashion-MNIST files in '" + Path.Combine(_dir, "other") + "' by hand and call FashionMnist.Load(directory).");
        FashionMnist.Md5.Keys.Should().BeEquivalentTo(md5.Keys, "the published table names the same four files");
        FashionMnist.ClassNames.Should().HaveCount(10);
    }

    /// <summary>
    /// A downloader over loopback mirrors. The stall limit is short (1 s, against the slow mirror's 3 s pause) only where
    /// a slow mirror is listed, so that test waits for it briefly; elsewhere it is 10 s, since on a loaded machine even
    /// the loopback server can pause for half a second.
    /// </summary>
    private Downloader Downloader(params string[] mirrors)
        => new(new HttpClient(), mirrors.Select(m => new Uri(m == "refused" ? $"http://127.0.0.1:{FreePort()}/refused/" : $"http://127.0.0.1:{_port}/{m}/")).ToList(),
            TimeSpan.FromSeconds(mirrors.Contains("slow") ? SlowMirrorStallLimit : 10));

    private const double SlowMirrorStallLimit = 1;

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => RespondAsync(context));
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        string[] parts = context.Request.Url!.AbsolutePath.Trim('/').Split('/');
        string behaviour = parts[0], file = Path.Combine(_source, parts[^1]);
        HttpListenerResponse response = context.Response;
        try
        {
            if (behaviour == "missing" || !File.Exists(file))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            byte[] bytes = await File.ReadAllBytesAsync(file);
            response.ContentLength64 = bytes.Length;
            switch (behaviour)
            {
                case "good":
                    await response.OutputStream.WriteAsync(bytes);
                    response.Close();
                    break;
                case "truncated":
                    await response.OutputStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                    response.Abort();
                    break;
                case "corrupt":
                    for (int i = 100; i < bytes.Length; i += 997) bytes[i] ^= 0x5A;
                    await response.OutputStream.WriteAsync(bytes);
                    response.Close();
                    break;
                case "slow":
                    await response.OutputStream.WriteAsync(bytes.AsMemory(0, 1000));
                    await response.OutputStream.FlushAsync();
                    await Task.Delay(TimeSpan.FromSeconds(3));
                    response.Abort();
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client gave up on this response (the stall and truncation cases).
        }
    }
}
