using System.Runtime.CompilerServices;

namespace NeuralDescent.Kernels.Common;

/// <summary>
/// A small lock-protected stack of reusable scratch objects, so that calls running at the same time on several
/// threads each get their own buffers while a single thread reuses one set and allocates nothing.
/// </summary>
/// <typeparam name="T">The scratch type.</typeparam>
internal sealed class ScratchPool<T> where T : class
{
    private readonly object _gate = new();
    private T[] _items = new T[2];
    private int _count;

    /// <summary>A pooled object, or null when every one is in use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public T? TryRent()
    {
        lock (_gate)
        {
            if (_count == 0) return null;
            T item = _items[--_count];
            _items[_count] = null!;
            return item;
        }
    }

    /// <summary>Puts an object back for the next caller (the pool grows to the most calls that ran at once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Return(T item)
    {
        lock (_gate)
        {
            if (_count == _items.Length) Array.Resize(ref _items, _count * 2);
            _items[_count++] = item;
        }
    }
}
