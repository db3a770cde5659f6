using System.Runtime.CompilerServices;
using NeuralDescent.Data;
using NeuralDescent.Randomness;

namespace NeuralDescent.Training;

/// <summary>
/// Where a run's mini-batches come from: the split into training and validation samples (data stream), the order of
/// each epoch (shuffle stream) and each batch's copy into the workspace, with its augmentation (data stream).
/// </summary>
internal sealed class BatchSource
{
    private readonly Dataset _data;
    private readonly TrainerOptions _options;

    public BatchSource(Dataset data, TrainerOptions options)
    {
        _data = data;
        _options = options;
        ulong seed = unchecked((ulong)options.Seed);
        DataRandom = RandomGenerator.ForStream(seed, RandomStreamKind.Data);
        ShuffleRandom = RandomGenerator.ForStream(seed, RandomStreamKind.Shuffle);
        int[] all = Enumerable.Range(0, data.Count).ToArray();
        int validationCount = (int)(data.Count * options.ValidationSplit);
        if (validationCount > 0) DataRandom.Shuffle(all);
        Order = all[..(data.Count - validationCount)];
        Validation = all[(data.Count - validationCount)..];
        if (Order.Length == 0) throw new ArgumentException("The training set is empty (after the validation split).", nameof(data));
        BatchSize = Math.Min(options.BatchSize, Order.Length);
        Batches = (Order.Length + BatchSize - 1) / BatchSize;
    }

    /// <summary>The training samples in this epoch's order.</summary>
    public int[] Order { get; }

    /// <summary>The held-out validation samples.</summary>
    public int[] Validation { get; }

    /// <summary>Samples per batch (the last batch of an epoch may have fewer).</summary>
    public int BatchSize { get; }

    /// <summary>Batches per epoch.</summary>
    public int Batches { get; }

    /// <summary>The shuffle stream.</summary>
    public RandomGenerator ShuffleRandom { get; private set; }

    /// <summary>The data stream (validation split, augmentation).</summary>
    public RandomGenerator DataRandom { get; private set; }

    /// <summary>Continues a checkpointed run: its order and stream states.</summary>
    /// <exception cref="ArgumentException">The checkpoint's order is not a permutation of this run's training samples.</exception>
    public void Restore(Serialization.Checkpoint checkpoint)
    {
        int[] saved = [.. checkpoint.Order], current = [.. Order];
        Array.Sort(saved);
        Array.Sort(current);
        if (!saved.AsSpan().SequenceEqual(current))
            throw new ArgumentException($"The checkpoint's sample order ({checkpoint.Order.Length} samples) is not a permutation of this run's {Order.Length} training samples; resume with the same data, seed and validation split.", nameof(checkpoint));
        checkpoint.Order.CopyTo(Order, 0);
        ShuffleRandom = RandomGenerator.FromState(checkpoint.Shuffle);
        DataRandom = RandomGenerator.FromState(checkpoint.Data);
    }

    /// <summary>Draws the epoch's order (unless shuffling is off).</summary>
    public void StartEpoch()
    {
        if (_options.Shuffle) ShuffleRandom.Shuffle(Order);
    }

    /// <summary>The sample indices of batch <paramref name="batch"/> (0-based) of the epoch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<int> Indices(int batch)
    {
        int start = batch * BatchSize;
        return Order.AsSpan(start, Math.Min(BatchSize, Order.Length - start));
    }

    /// <summary>Copies batch <paramref name="batch"/> into <paramref name="inputs"/> and <paramref name="targets"/> and augments its inputs; returns its size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Fill(int batch, Span<float> inputs, Span<float> targets)
    {
        ReadOnlySpan<int> indices = Indices(batch);
        int b = indices.Length, width = _data.InputSize;
        _data.CopyBatch(indices, inputs[..(b * width)], targets[..(b * _data.TargetSize)]);
        if (_options.Augmentation is IAugmentation augmentation)
        {
            for (int i = 0; i < b; i++) augmentation.Apply(inputs.Slice(i * width, width), DataRandom);
        }
        return b;
    }
}
