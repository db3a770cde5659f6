namespace NeuralDescent.Serialization;

/// <summary>Writes a file so that readers see either the old contents or the complete new ones, never a half-written file.</summary>
/// <remarks>
/// The temporary file is <c>.{name}.{process id}.{guid}.tmp</c> beside the destination. A write killed midway leaves its
/// temporary behind; the next successful write to the same path removes every such leftover whose process has ended
/// (or, for this process, that no write still in progress owns).
/// </remarks>
internal static class AtomicFile
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> InProgress = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes through <paramref name="write"/> into a temporary file in the same folder, flushes it to disk, then renames
    /// it over <paramref name="path"/>. On any failure the temporary file is deleted and the old file is untouched.
    /// </summary>
    /// <param name="path">The destination.</param>
    /// <param name="write">Writes the contents.</param>
    /// <param name="wrap">Test hook: wraps the file stream (e.g. in one that fails midway).</param>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? wrap = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        InProgress[temporary] = 0;
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Stream target = wrap?.Invoke(file) ?? file;
                write(target);
                target.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
            InProgress.TryRemove(temporary, out _);
            RemoveLeftovers(directory, Path.GetFileName(full));
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // The original error matters more than a leftover temporary file.
            }
            InProgress.TryRemove(temporary, out _);
            throw;
        }
    }

    /// <summary>Deletes the temporaries of earlier writes to <paramref name="name"/> that were killed before their rename.</summary>
    private static void RemoveLeftovers(string directory, string name)
    {
        string prefix = $".{name}.";
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, prefix + "*.tmp").ToList();
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }
        foreach (string path in candidates)
        {
            string[] parts = Path.GetFileName(path)[prefix.Length..].Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
            bool orphaned = pid == Environment.ProcessId ? !InProgress.ContainsKey(path) : !ProcessIsAlive(pid);
            if (!orphaned) continue;
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Still open elsewhere; a later write will try again.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to delete.
            }
        }
    }

    private static bool ProcessIsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
