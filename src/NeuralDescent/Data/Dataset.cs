using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using NeuralDescent.Kernels;
using NeuralDescent.Kernels.Common;

namespace NeuralDescent.Data;

/// <summary>
/// An in-memory set of samples: one input vector of <see cref="InputSize"/> features and one target vector of
/// <see cref="TargetSize"/> values per sample, plus a class label for classification data.
/// </summary>
/// <remarks>
/// <para>Inputs are kept compact: byte data (such as MNIST pixels) stays as bytes and is scaled to floats
/// (<c>x = byte · scale</c>) one batch at a time, so 60,000 MNIST images take 47 MB instead of 188 MB.</para>
/// <para>Classification targets are one-hot vectors built per batch from the labels (tₖ = 1 for k = label, else 0).</para>
/// <para>Thread safety: a dataset does not change once built, so any number of threads may read it at once.</para>
/// </remarks>
public sealed class Dataset
{
    private readonly byte[]? _byteInputs;
    private readonly float[]? _floatInputs;
    private readonly float _scale;
    private readonly int[]? _labels;
    private readonly float[]? _targets;

    private Dataset(int count, int inputSize, int targetSize, byte[]? byteInputs, float[]? floatInputs, float scale, int[]? labels, float[]? targets)
    {
        Count = count;
        InputSize = inputSize;
        TargetSize = targetSize;
        _byteInputs = byteInputs;
        _floatInputs = floatInputs;
        _scale = scale;
        _labels = labels;
        _targets = targets;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Features per input sample.</summary>
    public int InputSize { get; }

    /// <summary>Values per target: the number of classes for classification data.</summary>
    public int TargetSize { get; }

    /// <summary>Whether samples carry class labels (<see cref="GetLabel"/>).</summary>
    public bool HasLabels => _labels is not null;

    /// <summary>
    /// A classification dataset over byte features (e.g. pixels), scaled to floats per batch as x = byte · <paramref name="scale"/>.
    /// </summary>
    /// <param name="inputs">Count × inputSize bytes, one sample after another; kept, not copied.</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="labels">One class index per sample, each in [0, classCount); kept, not copied.</param>
    /// <param name="classCount">Number of classes, the width of the one-hot targets.</param>
    /// <param name="scale">Factor applied to each byte; 1/255 maps pixels to [0, 1].</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">Lengths do not match or a label is out of range.</exception>
    public static Dataset FromBytes(byte[] inputs, int inputSize, int[] labels, int classCount, float scale = 1f / 255f)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        if (!float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be finite.");
        CheckInputs(inputs.Length, inputSize, labels.Length);
        CheckLabels(labels, classCount);
        return new Dataset(labels.Length, inputSize, classCount, inputs, null, scale, labels, null);
    }

    /// <summary>A classification dataset over float features.</summary>
    /// <param name="inputs">Count × inputSize values; kept, not copied.</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="labels">One class index per sample, each in [0, classCount).</param>
    /// <param name="classCount">Number of classes.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">Lengths do not match or a label is out of range.</exception>
    public static Dataset FromLabels(float[] inputs, int inputSize, int[] labels, int classCount)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        CheckInputs(inputs.Length, inputSize, labels.Length);
        CheckLabels(labels, classCount);
        return new Dataset(labels.Length, inputSize, classCount, null, inputs, 1f, labels, null);
    }

    /// <summary>A dataset with arbitrary float targets (regression, multi-label, soft targets).</summary>
    /// <param name="inputs">Count × inputSize values; kept, not copied.</param>
    /// <param name="inputSize">Features per sample.</param>
    /// <param name="targets">Count × targetSize values; kept, not copied.</param>
    /// <param name="targetSize">Values per target.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentException">Lengths do not match.</exception>
    public static Dataset FromTargets(float[] inputs, int inputSize, float[] targets, int targetSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetSize);
        if (targets.Length % targetSize != 0)
            throw new ArgumentException($"targets has {targets.Length} values, not a multiple of targetSize {targetSize}.", nameof(targets));
        int count = targets.Length / targetSize;
        CheckInputs(inputs.Length, inputSize, count);
        return new Dataset(count, inputSize, targetSize, null, inputs, 1f, null, targets);
    }

    /// <summary>The class label of sample <paramref name="index"/>.</summary>
    /// <param name="index">Sample index in [0, <see cref="Count"/>).</param>
    /// <returns>The label in [0, <see cref="TargetSize"/>).</returns>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public int GetLabel(int index)
    {
        if (_labels is null) throw new InvalidOperationException("This dataset has float targets, not class labels.");
        return _labels[index];
    }

    /// <summary>Copies sample <paramref name="index"/>'s input features into <paramref name="destination"/> as floats.</summary>
    /// <param name="index">Sample index.</param>
    /// <param name="destination">At least <see cref="InputSize"/> values.</param>
    public void CopyInput(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        if (destination.Length < InputSize)
            throw new ArgumentException($"destination has {destination.Length} values but a sample has {InputSize}.", nameof(destination));
        CopyInputUnchecked(index, destination[..InputSize]);
    }

    /// <summary>Copies sample <paramref name="index"/>'s target (one-hot for labelled data) into <paramref name="destination"/>.</summary>
    /// <param name="index">Sample index.</param>
    /// <param name="destination">At least <see cref="TargetSize"/> values.</param>
    public void CopyTarget(int index, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        if (destination.Length < TargetSize)
            throw new ArgumentException($"destination has {destination.Length} values but a target has {TargetSize}.", nameof(destination));
        CopyTargetUnchecked(index, destination[..TargetSize]);
    }

    /// <summary>A new dataset of the samples in [start, start + count), sharing nothing mutable with this one.</summary>
    /// <param name="start">First sample.</param>
    /// <param name="count">Number of samples.</param>
    /// <returns>The slice, copied.</returns>
    public Dataset Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Slice [{start}, {start + (long)count}) runs past the {Count} samples.");
        long inStart = (long)start * InputSize, inLength = (long)count * InputSize;
        byte[]? bytes = _byteInputs?.AsSpan((int)inStart, (int)inLength).ToArray();
        float[]? floats = _floatInputs?.AsSpan((int)inStart, (int)inLength).ToArray();
        int[]? labels = _labels?.AsSpan(start, count).ToArray();
        float[]? targets = _targets?.AsSpan(start * TargetSize, count * TargetSize).ToArray();
        return new Dataset(count, InputSize, TargetSize, bytes, floats, _scale, labels, targets);
    }

    /// <summary>
    /// A copy whose labels are randomly permuted among the samples (the memorization experiment: a network can still
    /// fit them, so high training accuracy alone is not learning). The inputs are shared, not copied.
    /// </summary>
    /// <param name="seed">Seed of the permutation (data stream).</param>
    /// <returns>The relabelled dataset.</returns>
    /// <exception cref="InvalidOperationException">The dataset has float targets rather than labels.</exception>
    public Dataset WithShuffledLabels(int seed)
    {
        if (_labels is null) throw new InvalidOperationException("Only a labelled dataset can have its labels shuffled.");
        int[] labels = (int[])_labels.Clone();
        Randomness.RandomGenerator.ForStream(unchecked((ulong)seed), Randomness.RandomStreamKind.Data).Shuffle(labels);
        return new Dataset(Count, InputSize, TargetSize, _byteInputs, _floatInputs, _scale, labels, null);
    }

    /// <summary>
    /// Gathers the samples named by <paramref name="indices"/> into a batch: inputs (B × InputSize) and targets
    /// (B × TargetSize), row-major, B = indices.Length. Allocates nothing.
    /// </summary>
    /// <remarks>
    /// A batch of 32 rows or more is copied on the kernel threads (<see cref="ComputeOptions.ThreadCount"/>), each taking
    /// a fixed range of at least 16 rows. The copy is memory-bound on writes as well as reads: the kernels of the last
    /// training step read the batch buffer on every core, so each line a single thread writes first waits for the other
    /// cores' copies to be invalidated. Rows are independent, so the split cannot change what is copied.
    /// </remarks>
    /// <param name="indices">The samples, each in [0, Count).</param>
    /// <param name="inputs">Receives B × <see cref="InputSize"/> values (at least that many).</param>
    /// <param name="targets">Receives B × <see cref="TargetSize"/> values (at least that many).</param>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the dataset.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void CopyBatch(ReadOnlySpan<int> indices, Span<float> inputs, Span<float> targets)
    {
        if (inputs.Length < (long)indices.Length * InputSize || targets.Length < (long)indices.Length * TargetSize)
            ThrowShortBatch(indices.Length, inputs.Length, targets.Length);
        foreach (int index in indices)
        {
            if ((uint)index >= (uint)Count) ThrowIndex(index);
        }
        if (indices.Length < 2 * RowsPerThread || WorkerPool.AvailableThreads == 1)
        {
            CopyRows(indices, inputs, targets, streaming: false);
            return;
        }
        fixed (int* pi = indices)
        fixed (float* px = inputs, pt = targets)
        {
            RowCopy copy = t_rowCopy ??= new RowCopy();
            copy.Set(this, pi, px, pt);
            try
            {
                RangeParallel.Run(copy, indices.Length, RowsPerThread);
            }
            finally
            {
                copy.Set(null, null, null, null);
            }
        }
    }

    /// <summary>The fewest rows <see cref="CopyBatch"/> gives a thread: below that, handing work over costs more than it saves.</summary>
    internal const int RowsPerThread = 16;

    [ThreadStatic] private static RowCopy? t_rowCopy;

    /// <summary>Rows [start, end) of one <see cref="CopyBatch"/> call, for <see cref="RangeParallel"/>.</summary>
    private sealed unsafe class RowCopy : IRangeWork
    {
        private Dataset? _data;
        private int* _indices;
        private float* _inputs, _targets;

        public void Set(Dataset? data, int* indices, float* inputs, float* targets)
        {
            _data = data;
            _indices = indices;
            _inputs = inputs;
            _targets = targets;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int start, int end)
        {
            Dataset data = _data!;
            data.CopyRows(new ReadOnlySpan<int>(_indices + start, end - start),
                new Span<float>(_inputs + (long)start * data.InputSize, (end - start) * data.InputSize),
                new Span<float>(_targets + (long)start * data.TargetSize, (end - start) * data.TargetSize), streaming: true);
        }
    }

    /// <summary>
    /// The rows of <see cref="CopyBatch"/> on the calling thread, indices and lengths already checked. With
    /// <paramref name="streaming"/> (a batch split across threads, which every thread then reads whole) the inputs
    /// are written with <see cref="StreamingStores"/>: the lines the other cores still hold from the last batch are
    /// then not waited for one by one. Zen 5, two threads, alternating builds, three rounds: W1 epochs in <c>Fit</c>
    /// 0.172–0.184 → 0.156–0.171 s; W3 (whose copy is 3 % of a step) 0.83–0.99 s either way; a 64-row copy after
    /// both cores had read the batch buffer 25.0–25.6 → 17.9–18.1 µs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyRows(ReadOnlySpan<int> indices, Span<float> inputs, Span<float> targets, bool streaming)
    {
        // Shuffled rows come from all over the dataset: each row is asked for PrefetchRows rows ahead of its copy (a
        // training batch's share of a thread, all of it before the first copy), so that many rows' cache misses are in
        // flight at once rather than a few rows' at a time.
        int ahead = Math.Min(PrefetchRows, indices.Length);
        PrefetchInputs(indices[..ahead]);
        for (int b = 0; b < indices.Length; b++)
        {
            if (b + ahead < indices.Length) PrefetchInputs(indices.Slice(b + ahead, 1));
            int index = indices[b];
            CopyInputUnchecked(index, inputs.Slice(b * InputSize, InputSize), streaming);
            CopyTargetUnchecked(index, targets.Slice(b * TargetSize, TargetSize));
        }
        if (streaming) StreamingStores.Fence();
    }

    /// <summary>
    /// How many rows ahead of its copy <see cref="CopyBatch"/> asks for a row: 64 MNIST rows are 50 KB of bytes, so the
    /// rows in flight stay in L2. Zen 5, two threads, alternated every 10 batches with 4 rows ahead: W1's copy (32 rows a
    /// thread) 28–32 → 27–30 µs, W3's (64 rows a thread) 66–67 → 59–60 µs.
    /// </summary>
    private const int PrefetchRows = 64;

    /// <summary>
    /// Asks the CPU to start loading the inputs of these samples into its caches (x86 prefetch hints; nothing on other
    /// processors), so that a later <see cref="CopyBatch"/> of them finds them there instead of waiting on memory for
    /// each shuffled row. <see cref="CopyBatch"/> calls it for the rows <see cref="PrefetchRows"/> ahead of the one it copies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal unsafe void PrefetchInputs(ReadOnlySpan<int> indices)
    {
        if (!Sse.IsSupported) return;
        fixed (byte* bytes = _byteInputs)
        fixed (float* floats = _floatInputs)
        {
            long rowBytes = bytes != null ? InputSize : InputSize * sizeof(float);
            byte* start = bytes != null ? bytes : (byte*)floats;
            for (int i = 0; i < indices.Length; i++)
            {
                byte* row = start + indices[i] * rowBytes;
                for (long offset = 0; offset < rowBytes; offset += 64) Sse.Prefetch0(row + offset);
                Sse.Prefetch0(row + rowBytes - 1);
            }
        }
    }

    /// <summary>The label of a sample, or for float targets the index of the largest target value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int ClassOf(int index)
    {
        if (_labels is not null) return _labels[index];
        ReadOnlySpan<float> t = _targets.AsSpan(index * TargetSize, TargetSize);
        return TargetSize == 1 ? (t[0] >= 0.5f ? 1 : 0) : ReductionKernels.IndexOfMax(t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyInputUnchecked(int index, Span<float> destination, bool streaming = false)
    {
        if (streaming)
        {
            if (_byteInputs is not null) StreamingStores.ScaleBytes(_byteInputs.AsSpan(index * InputSize, InputSize), _scale, destination);
            else StreamingStores.Copy(_floatInputs.AsSpan(index * InputSize, InputSize), destination);
        }
        else if (_byteInputs is not null)
        {
            ElementwiseKernels.ScaleBytes(_byteInputs.AsSpan(index * InputSize, InputSize), _scale, destination);
        }
        else
        {
            _floatInputs.AsSpan(index * InputSize, InputSize).CopyTo(destination);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowShortBatch(int count, int inputs, int targets)
        => throw new ArgumentException($"A batch of {count} samples needs {(long)count * InputSize} input and {(long)count * TargetSize} target values; the spans hold {inputs} and {targets}.");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, $"Sample index {index} is outside the dataset of {Count} samples.");

    private void CopyTargetUnchecked(int index, Span<float> destination)
    {
        if (_labels is not null)
        {
            destination.Clear();
            destination[_labels[index]] = 1f;
        }
        else
        {
            _targets.AsSpan(index * TargetSize, TargetSize).CopyTo(destination);
        }
    }

    private static void CheckInputs(long inputLength, int inputSize, int count, string paramName = "inputs")
    {
        if (inputLength != (long)count * inputSize)
            throw new ArgumentException($"inputs has {inputLength} values but {count} samples of {inputSize} features need {(long)count * inputSize}.", paramName);
    }

    private static void CheckLabels(int[] labels, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException($"Label {labels[i]} of sample {i} is outside [0, {classCount}).", nameof(labels));
        }
    }
}
