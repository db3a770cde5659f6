namespace NeuralDescent.IO;

/// <summary>Opens files for reading with messages that say what the path is when it cannot be read.</summary>
internal static class ReadableFile
{
    /// <summary>Opens <paramref name="path"/> for reading (shared read access, a 64 KiB buffer).</summary>
    /// <exception cref="IOException">The path is a directory.</exception>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="UnauthorizedAccessException">The file exists but this process may not read it.</exception>
    public static FileStream Open(string path)
    {
        if (Directory.Exists(path)) throw new IOException($"'{path}' is a directory, not a file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"'{path}' exists but cannot be read (permission denied).", e);
        }
    }
}
