namespace NeuralDescent.Serialization;

/// <summary>Writes a file so that readers see either the old contents or the complete new ones, never a half-written file.</summary>
internal static class AtomicFile
{
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
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
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
            throw;
        }
    }
}
