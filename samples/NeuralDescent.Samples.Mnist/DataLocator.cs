namespace MnistSample;

/// <summary>Finds the repository's bundled data/mnist folder from the working directory or the program's folder.</summary>
internal static class DataLocator
{
    public static string? FindMnist()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "mnist");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        return null;
    }
}
