using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;

namespace NeuralDescent.Data;

/// <summary>How far a download has got: the file, bytes received so far and the total when the server said it.</summary>
/// <param name="File">The file's name, e.g. <c>train-images-idx3-ubyte.gz</c>.</param>
/// <param name="BytesReceived">Bytes of this file received so far (from the current mirror).</param>
/// <param name="TotalBytes">The file's size from the server's Content-Length, when given.</param>
public readonly record struct DownloadProgress(string File, long BytesReceived, long? TotalBytes);

/// <summary>Fetches dataset files from mirrors, verifying each before it is kept.</summary>
internal sealed class Downloader(HttpClient client, IReadOnlyList<Uri> mirrors, TimeSpan stallTimeout)
{
    /// <summary>How a downloaded file is checked: its digest, compared with the expected lower-case hex string.</summary>
    public Func<string, CancellationToken, Task<string>> Digest { get; init; } = HashOfGzipAsync;

    /// <summary>What <see cref="Digest"/> computes, for messages.</summary>
    public string DigestName { get; init; } = "SHA-256";

    /// <summary>The dataset's name and the call that loads it, for the message when no mirror works.</summary>
    public string DatasetName { get; init; } = "MNIST";

    /// <inheritdoc cref="DatasetName"/>
    public string LoadCall { get; init; } = "Mnist.Load(directory)";

    /// <summary>
    /// Downloads <paramref name="fileName"/> (gzip) into <paramref name="directory"/> unless a file there already
    /// passes the check: from each mirror in turn, into a temporary file, accepted only when its <see cref="Digest"/>
    /// is <paramref name="expected"/>, then renamed into place.
    /// </summary>
    public async Task FetchAsync(string directory, string fileName, string expected, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string target = Path.Combine(directory, fileName);
        if (File.Exists(target) && await DigestOrNullAsync(target, cancellationToken).ConfigureAwait(false) == expected) return;
        var problems = new List<string>();
        foreach (Uri mirror in mirrors)
        {
            var url = new Uri(mirror, fileName);
            string temporary = Path.Combine(directory, $".{fileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.part");
            try
            {
                await DownloadAsync(url, temporary, fileName, progress, cancellationToken).ConfigureAwait(false);
                string actual = await Digest(temporary, cancellationToken).ConfigureAwait(false);
                if (actual != expected)
                {
                    problems.Add($"{url}: {DigestName} {actual} is not the expected {expected}");
                    continue;
                }
                File.Move(temporary, target, overwrite: true);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or InvalidDataException)
            {
                problems.Add($"{url}: {Describe(e)}");
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }
        throw new IOException($"Could not download {fileName} from any mirror ({string.Join("; ", problems)}); check the internet connection, or put the four {DatasetName} files in '{directory}' by hand and call {LoadCall}.");
    }

    private async Task<string?> DigestOrNullAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await Digest(path, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return null; // a damaged file already there is fetched again
        }
    }

    private async Task DownloadAsync(Uri url, string temporary, string fileName, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(stallTimeout);
        using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stall.Token).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        long? total = response.Content.Headers.ContentLength;
        await using Stream body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
        await using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        byte[] buffer = new byte[1 << 16];
        long received = 0;
        while (true)
        {
            stall.CancelAfter(stallTimeout); // a stall is no byte for this long, not a slow whole download
            int n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
            if (n == 0) break;
            await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            received += n;
            progress?.Report(new DownloadProgress(fileName, received, total));
        }
        if (total is long expected && received != expected) throw new IOException($"the transfer ended after {received} of {expected} bytes");
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The MD5 of a file's bytes (lower-case hex): how Fashion-MNIST's publishers give its checksums.</summary>
    internal static async Task<string> Md5OfFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
#pragma warning disable CA5351 // MD5 checks against the published checksums, not security.
        byte[] hash = await MD5.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5351
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The SHA-256 of a gzip file's decompressed bytes (lower-case hex); a damaged archive is InvalidDataException.</summary>
    internal static async Task<string> HashOfGzipAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        byte[] hash = await SHA256.HashDataAsync(gzip, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    private string Describe(Exception e) => e switch
    {
        OperationCanceledException => $"no data arrived for {stallTimeout.TotalSeconds:0.#} s",
        InvalidDataException => "the file is not a valid gzip archive",
        _ => e.Message.TrimEnd('.'),
    };
}
