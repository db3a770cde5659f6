namespace NeuralDescent.Layers;

/// <summary>
/// Checks the size of a parameter or state tensor before it is allocated: every dimension positive, the product within
/// 2³¹ − 1, and, while a model file is being loaded, within what that file can hold.
/// </summary>
internal static class TensorSize
{
    [ThreadStatic] private static long t_loadBudget;
    [ThreadStatic] private static string? t_loadSource;

    /// <summary>The number of elements of a tensor of <paramref name="dimensions"/>.</summary>
    public static int Checked(string name, IReadOnlyList<int> dimensions)
    {
        if (dimensions.Count == 0) throw new ArgumentException($"Tensor '{name}' needs at least one dimension.", nameof(dimensions));
        long length = 1;
        foreach (int d in dimensions)
        {
            if (d <= 0) throw new ArgumentException($"tensor '{name}' of shape [{string.Join('×', dimensions)}] has a dimension that is not positive.");
            length *= d;
            if (length > Array.MaxLength)
                throw new ArgumentException($"tensor '{name}' of shape [{string.Join('×', dimensions)}] has more than {Array.MaxLength} elements.");
        }
        if (t_loadSource is not null)
        {
            if (length > t_loadBudget)
                throw new InvalidDataException($"{t_loadSource}: the architecture asks for tensor '{name}' of shape [{string.Join('×', dimensions)}], more values than the whole file holds.");
            t_loadBudget -= length;
        }
        return (int)length;
    }

    /// <summary>
    /// While the returned scope is open on this thread, layers built from a file may allocate at most
    /// <paramref name="elements"/> values in all, so a forged architecture cannot ask for gigabytes.
    /// </summary>
    public static LoadScope Budget(string source, long elements)
    {
        t_loadSource = source;
        t_loadBudget = elements;
        return default;
    }

    public readonly struct LoadScope : IDisposable
    {
        public void Dispose() => t_loadSource = null;
    }
}
