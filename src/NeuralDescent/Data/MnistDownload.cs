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
    /// <summary>
    /// Downloads <paramref name="fileName"/> (gzip) into <paramref name="directory"/> unless a file there already
    /// passes the check: from each mirror in turn, into a temporary file, accepted only when its decompressed bytes
    /// have the SHA-256 <paramref name="sha256"/>, then renamed into place.
    /// </summary>
    public async Task FetchAsync(string directory, string fileName, string sha256, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string target = Path.Combine(directory, fileName);
        if (File.Exists(target) && await HashOfGzipAsync(target, cancellationToken).ConfigureAwait(false) == sha256) return;
        var problems = new List<string>();
        foreach (Uri mirror in mirrors)
        {
            var url = new Uri(mirror, fileName);
            string temporary = Path.Combine(directory, $".{fileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.part");
            try
            {
                await DownloadAsync(url, temporary, fileName, progress, cancellationToken).ConfigureAwait(false);
                string actual = await HashOfGzipAsync(temporary, cancellationToken).ConfigureAwait(false);
                if (actual != sha256)
                {
                    problems.Add($"{url}: SHA-256 {actual} is not the expected {sha256}");
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
        throw new IOException($"Could not download {fileName} from any mirror ({string.Join("; ", problems)}); check the internet connection, or put the four MNIST files in '{directory}' by hand and call Mnist.Load(directory).");
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
