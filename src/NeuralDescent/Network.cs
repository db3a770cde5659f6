using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Kernels;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;

namespace NeuralDescent;

/// <summary>A sequential neural network: a = fₗ(… f₂(f₁(x))), one <see cref="ILayer"/> after another.</summary>
/// <remarks>
/// <para>Shapes are folded through the layers when the network is built: each layer is connected to the shape produced
/// before it (<see cref="ILayer.Connect"/>), and a mismatch is an <see cref="ArgumentException"/> naming both layers and
/// both shapes. The input shape is given explicitly (<c>new Network(Shape.Image(1, 28, 28), …)</c> for a convolutional
/// network) or taken from the first layer that states one (<see cref="ILayer.InputShape"/>, such as a Dense layer's).</para>
/// <para>A layer whose <c>Forward</c> can apply the activation after it in the same pass (Dense or Conv2D before a ReLU)
/// is asked to, and the two run as one; results are the same as running them apart.</para>
/// <para>A layer belongs to one network: building a second network with it is an <see cref="ArgumentException"/>.</para>
/// <para>Activation and gradient buffers are allocated once per batch capacity and reused, so forward and backward
/// passes allocate nothing after the first batch. <see cref="PredictBatch"/> runs a large batch in chunks that keep
/// those buffers within 64 MiB (a convolutional network's activations take tens of kilobytes per sample).</para>
/// <para>Thread safety: <see cref="Predict(ReadOnlySpan{float}, Span{float})"/>, <see cref="PredictBatch"/>,
/// <see cref="Classify"/> and <c>Metrics.Evaluator.Evaluate</c> may run on many threads at once (each call takes its own
/// buffers from a pool, so one shared network can serve a web application) and give bitwise the results of serial calls.
/// Training (<c>Trainer</c>, and the diagnostics that compute gradients) runs on one thread at a time; a prediction from
/// another thread while it trains, or a second trainer, is refused with an <see cref="InvalidOperationException"/>.
/// Building the network and <see cref="Initialize"/> are not thread-safe.</para>
/// </remarks>
public sealed class Network
{
    /// <summary>Which network each layer belongs to: a layer holds its weights, so it can serve one network only.</summary>
    private static readonly ConditionalWeakTable<ILayer, Network> Owners = new();

    private readonly ILayer[] _layers;
    private readonly Shape[] _shapes;
    private readonly int[] _widths;
    private readonly Parameter[] _parameters;
    private readonly StateTensor[] _state;
    private readonly bool[] _fusedWithNext;
    private readonly bool[] _backwardThrough, _forwardThrough;
    private readonly (int[] Owner, bool[] SharesInput) _buffers, _inferenceBuffers;
    private readonly Kernels.Common.ScratchPool<Workspace> _inference = new();
    private Workspace? _training;
    private int _trainingThread;

    /// <summary>Builds a network and initializes it with seed 0; the input shape is the first layer's.</summary>
    /// <param name="layers">The layers in order.</param>
    /// <exception cref="ArgumentException">There are no layers, or their shapes do not chain.</exception>
    public Network(params ILayer[] layers) : this(0, null, layers)
    {
    }

    /// <summary>Builds a network and initializes its parameters from <paramref name="seed"/>; the input shape is the first layer's.</summary>
    /// <param name="seed">Seed of the initialization stream (<see cref="RandomStreamKind.Initialization"/>).</param>
    /// <param name="layers">The layers in order.</param>
    /// <exception cref="ArgumentException">There are no layers, or their shapes do not chain.</exception>
    public Network(int seed, params ILayer[] layers) : this(seed, null, layers)
    {
    }

    /// <summary>Builds a network for samples of <paramref name="input"/> shape and initializes it with seed 0.</summary>
    /// <param name="input">The shape of one input sample, e.g. <c>Shape.Image(1, 28, 28)</c>.</param>
    /// <param name="layers">The layers in order.</param>
    /// <exception cref="ArgumentException">There are no layers, or their shapes do not chain.</exception>
    public Network(Shape input, params ILayer[] layers) : this(0, (Shape?)input, layers)
    {
    }

    /// <summary>Builds a network for samples of <paramref name="input"/> shape and initializes it from <paramref name="seed"/>.</summary>
    /// <param name="seed">Seed of the initialization stream.</param>
    /// <param name="input">The shape of one input sample.</param>
    /// <param name="layers">The layers in order.</param>
    /// <exception cref="ArgumentException">There are no layers, or their shapes do not chain.</exception>
    public Network(int seed, Shape input, params ILayer[] layers) : this(seed, (Shape?)input, layers)
    {
    }

    private Network(int seed, Shape? input, ILayer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i] is null) throw new ArgumentException($"Layer {i} is null.", nameof(layers));
            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(layers[i], layers[j]))
                    throw new ArgumentException($"Layer {i} ({layers[i].Name}) is the same object as layer {j}; each position needs its own layer.", nameof(layers));
            }
        }
        _layers = (ILayer[])layers.Clone();
        lock (Owners)
        {
            for (int i = 0; i < _layers.Length; i++)
            {
                if (Owners.TryGetValue(_layers[i], out _))
                    throw new ArgumentException($"Layer {i} ({_layers[i].Name}) already belongs to another network. A layer holds its own weights and state, so two networks sharing it would overwrite each other's; create a new layer.", nameof(layers));
            }
            _shapes = FoldShapes(_layers, input);
            foreach (ILayer layer in _layers) Owners.Add(layer, this);
        }
        _widths = _shapes.Select(s => s.Size).ToArray();
        _parameters = _layers.SelectMany(l => l.Parameters).ToArray();
        _state = _layers.SelectMany(l => l.State).ToArray();
        // A layer that can apply the activation after it in its own store does so (Dense → ReLU in the GEMM).
        _fusedWithNext = _layers.Select((l, i) => i + 1 < _layers.Length && l is IFusesActivation f && f.CanFuse(_layers[i + 1])).ToArray();
        // Such a layer may also take a pooling layer after its ReLU into its own passes (convolution → ReLU → pooling):
        // backward one sample at a time, and sometimes forward too. Flagged on the pooling layer.
        _backwardThrough = _layers.Select((l, i) => i >= 2 && _fusedWithNext[i - 2] && l is IFusablePooling p
            && _layers[i - 2] is IFusesPooling f && f.CanFuseBackward(_layers[i - 1], p)).ToArray();
        _forwardThrough = _layers.Select((l, i) => _backwardThrough[i] && ((IFusesPooling)_layers[i - 2]).CanFuseForward(_layers[i - 1], (IFusablePooling)l)).ToArray();
        // Which layer's buffer holds each layer's output. A layer that only reshapes (Flatten) uses its input's, and so,
        // in inference workspaces, does one that is the identity outside training (Dropout): no copy either way. A
        // layer fused with the activation after it never writes its own (the activation's buffer takes the result).
        _buffers = BufferOwners(inference: false);
        _inferenceBuffers = BufferOwners(inference: true);
        MaxWorkspaceRows = (int)Math.Clamp(WorkspaceBudget / Workspace.FloatsPerRow(_widths, _inferenceBuffers.Owner, inference: true), 1, int.MaxValue);
        Initialize(seed);
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<ILayer> Layers => _layers;

    /// <summary>For each layer, whose buffer holds its output, and whether that is its input's (the layer is then skipped).</summary>
    private (int[] Owner, bool[] SharesInput) BufferOwners(bool inference)
    {
        var owner = new int[_layers.Length];
        var sharesInput = new bool[_layers.Length];
        for (int i = 0; i < _layers.Length; i++)
        {
            sharesInput[i] = i >= 1 && _widths[i + 1] == _widths[i] && (_layers[i] is IReshapesOnly || (inference && _layers[i] is IIdentityOutsideTraining));
            owner[i] = sharesInput[i] ? owner[i - 1] : i;
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            if (_fusedWithNext[i] && owner[i + 1] == i + 1 && _widths[i + 2] == _widths[i + 1]) owner[i] = i + 1;
        }
        if (inference)
        {
            // A ReLU whose pooling runs inside the layer before it is never written outside training: no buffer (-1).
            for (int i = 2; i < _layers.Length; i++)
            {
                if (_forwardThrough[i] && owner[i - 2] == i - 1 && owner[i - 1] == i - 1) owner[i - 2] = owner[i - 1] = -1;
            }
        }
        return (owner, sharesInput);
    }

    /// <summary>The shape of one input sample.</summary>
    public Shape InputShape => _shapes[0];

    /// <summary>The shape of one output sample.</summary>
    public Shape OutputShape => _shapes[^1];

    /// <summary>Values per input sample, <see cref="InputShape"/>.Size.</summary>
    public int InputSize => _widths[0];

    /// <summary>Values per output sample, <see cref="OutputShape"/>.Size.</summary>
    public int OutputSize => _widths[^1];

    /// <summary>Every trainable parameter, layer by layer.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Every non-trainable state tensor (running statistics), layer by layer.</summary>
    public IReadOnlyList<StateTensor> State => _state;

    /// <summary>Total number of trainable values.</summary>
    public long ParameterCount => _parameters.Sum(p => (long)p.Length);

    /// <summary>The shape entering layer <paramref name="layer"/>; <c>Layers.Count</c> gives the network's output shape.</summary>
    /// <param name="layer">0 … Layers.Count.</param>
    /// <returns>The shape of one sample there.</returns>
    public Shape ShapeBefore(int layer) => _shapes[layer];

    /// <summary>Redraws every parameter from <paramref name="seed"/>; equal seeds give bitwise-equal weights.</summary>
    /// <param name="seed">Seed of the initialization stream.</param>
    public void Initialize(int seed)
    {
        RandomGenerator random = RandomGenerator.ForStream(unchecked((ulong)seed), RandomStreamKind.Initialization);
        for (int i = 0; i < _layers.Length; i++)
            _layers[i].Initialize(random, i + 1 < _layers.Length ? _layers[i + 1] : null);
    }

    /// <summary>The network's output for one sample, in a new array.</summary>
    /// <param name="input">The sample's <see cref="InputSize"/> features.</param>
    /// <returns>The <see cref="OutputSize"/> outputs.</returns>
    public float[] Predict(ReadOnlySpan<float> input)
    {
        var output = new float[OutputSize];
        Predict(input, output);
        return output;
    }

    /// <summary>The network's output for one sample, written into <paramref name="output"/> (no allocation).</summary>
    /// <param name="input">The sample's <see cref="InputSize"/> features.</param>
    /// <param name="output">Receives the <see cref="OutputSize"/> outputs.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Predict(ReadOnlySpan<float> input, Span<float> output)
    {
        CheckLength(input.Length, InputSize, nameof(input), "input sample");
        CheckLength(output.Length, OutputSize, nameof(output), "output sample");
        Workspace ws = RentInference(1);
        try
        {
            ForwardInto(ws, input, 1, training: false).CopyTo(output);
        }
        finally
        {
            _inference.Return(ws);
        }
    }

    /// <summary>The outputs for a batch of samples, row-major (batchSize × <see cref="OutputSize"/>).</summary>
    /// <param name="inputs">batchSize × <see cref="InputSize"/> features, row-major.</param>
    /// <param name="outputs">Receives batchSize × <see cref="OutputSize"/> values.</param>
    /// <param name="batchSize">Number of samples.</param>
    /// <exception cref="ArgumentException">A span has the wrong length for <paramref name="batchSize"/>.</exception>
    public void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckBatchLength(inputs.Length, batchSize, InputSize, nameof(inputs), "samples");
        CheckBatchLength(outputs.Length, batchSize, OutputSize, nameof(outputs), "outputs");
        // Large batches run in chunks, so the activations of a convolutional network stay within WorkspaceBudget.
        int chunk = Math.Min(batchSize, MaxWorkspaceRows);
        Workspace ws = RentInference(chunk);
        try
        {
            for (int start = 0; start < batchSize; start += chunk)
            {
                int b = Math.Min(chunk, batchSize - start);
                ForwardInto(ws, inputs.Slice(start * InputSize, b * InputSize), b, training: false).CopyTo(outputs.Slice(start * OutputSize, b * OutputSize));
            }
        }
        finally
        {
            _inference.Return(ws);
        }
    }

    /// <summary>The predicted class of one sample: argmaxₖ aₖ (for a single output, 1 when a ≥ 0.5).</summary>
    /// <param name="input">The sample's features.</param>
    /// <returns>The class index.</returns>
    /// <exception cref="ArgumentException">The input has the wrong length, or the outputs are not finite (a NaN or infinite input or weight): no class can be picked.</exception>
    public int Classify(ReadOnlySpan<float> input)
    {
        Span<float> output = OutputSize <= 256 ? stackalloc float[OutputSize] : new float[OutputSize];
        Predict(input, output);
        if (!TensorPrimitives.IsFiniteAll(output)) ThrowNotFinite(output);
        return ArgMax(output);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotFinite(ReadOnlySpan<float> output)
    {
        int bad = 0;
        while (float.IsFinite(output[bad])) bad++;
        throw new ArgumentException($"The network's output {bad} is {output[bad]}, so no class can be picked; check the input for NaN or infinite values.");
    }

    /// <summary>Hands the trainer's dropout stream to every layer that draws random numbers during training.</summary>
    internal void SetTrainingRandom(RandomGenerator random)
    {
        foreach (ILayer layer in _layers)
        {
            if (layer is IRandomizedLayer randomized) randomized.Random = random;
        }
    }

    /// <summary>"layer i Name" for the layer that owns <paramref name="parameter"/>.</summary>
    internal string DescribeLayerOf(Parameter parameter)
    {
        for (int i = 0; i < _layers.Length; i++)
        {
            foreach (Parameter p in _layers[i].Parameters)
            {
                if (ReferenceEquals(p, parameter)) return $"layer {i} {_layers[i].Name}";
            }
        }
        return parameter.Name;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(" → ", _layers.Select(l => l.Name));

    // ---- Training internals: used by Trainer; the workspace is sized to the largest batch seen. ----

    /// <summary>The most floats an inference workspace may hold (64 MiB): larger batches are predicted in chunks.</summary>
    internal const long WorkspaceBudget = 16L << 20;

    /// <summary>Rows per inference chunk: as many as fit in <see cref="WorkspaceBudget"/>, at least 1.</summary>
    internal int MaxWorkspaceRows { get; }

    /// <summary>
    /// An inference workspace of at least <paramref name="rows"/> rows for this call alone (return it to
    /// <see cref="ReturnInference"/>): concurrent predictions each get their own. Refused while another thread trains.
    /// </summary>
    internal Workspace RentInference(int rows)
    {
        int trainer = Volatile.Read(ref _trainingThread);
        if (trainer != 0 && trainer != Environment.CurrentManagedThreadId)
            throw new InvalidOperationException("The network is being trained on another thread, so its weights are changing; predict after training ends, or from a copy (ModelFile.Save, then Load).");
        Workspace? ws = _inference.TryRent();
        return ws is not null && ws.Capacity >= rows ? ws : NewWorkspace(rows, inference: true);
    }

    internal void ReturnInference(Workspace ws) => _inference.Return(ws);

    /// <summary>Marks the calling thread as the one training the network until the returned scope ends; a second trainer is refused.</summary>
    internal TrainingScope BeginTraining()
    {
        int current = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _trainingThread, current, 0);
        if (owner != 0 && owner != current)
            throw new InvalidOperationException("The network is already being trained on another thread; one network trains on one thread at a time.");
        return new TrainingScope(this, owner == 0);
    }

    internal readonly struct TrainingScope(Network network, bool outermost) : IDisposable
    {
        public void Dispose()
        {
            if (outermost) Volatile.Write(ref network._trainingThread, 0);
        }
    }

    /// <summary>A workspace of <paramref name="rows"/> rows, after checking that every buffer fits in an array.</summary>
    /// <exception cref="ArgumentException">A layer's activations for that many rows exceed an array; the message names the layer and the sizes.</exception>
    private Workspace NewWorkspace(int rows, bool inference)
    {
        for (int i = 0; i < _widths.Length; i++)
        {
            long values = (long)rows * _widths[i];
            if (values > Array.MaxLength)
            {
                string where = i == 0 ? $"the network's input ({_shapes[0]})" : $"the output of layer {i - 1} {_layers[i - 1].Name} ({_shapes[i]})";
                throw new ArgumentException($"A batch of {rows} samples of {where} holds {rows} × {_widths[i]} = {values} values, more than an array can ({Array.MaxLength}); use a smaller batch size.");
            }
        }
        (int[] owner, bool[] sharesInput) = inference ? _inferenceBuffers : _buffers;
        return new Workspace(_widths, owner, sharesInput, rows, inference);
    }

    internal Workspace WorkspaceFor(int batchSize)
    {
        if (_training is null || _training.Capacity < batchSize) _training = NewWorkspace(batchSize, inference: false);
        return _training;
    }

    internal void CheckDataset(Dataset data)
    {
        if (data.InputSize != InputSize)
            throw new ArgumentException($"The dataset has {data.InputSize} features per sample but the network expects {InputSize} (input shape {InputShape}, first layer {_layers[0].Name}).", nameof(data));
        if (data.TargetSize != OutputSize)
            throw new ArgumentException($"The dataset has targets of {data.TargetSize} values but the network's output {_layers[^1].Name} produces {OutputSize}.", nameof(data));
    }

    /// <summary>Runs every layer forward on <paramref name="inputs"/> and returns the last activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<float> ForwardInto(Workspace ws, ReadOnlySpan<float> inputs, int batchSize, bool training)
    {
        if (training && ws.Inference) throw new InvalidOperationException("An inference workspace skips the layers that are the identity outside training; train on WorkspaceFor's.");
        ReadOnlySpan<float> current = inputs;
        for (int i = 0; i < _layers.Length; i++)
        {
            if (ws.SharesInput(i)) continue; // its output buffer is the previous one, which holds the values already
            if (i + 2 < _layers.Length && _forwardThrough[i + 2])
            {
                // The layer, its ReLU and the pooling after it in one pass. The ReLU's output is not stored: its buffer
                // holds one code per pooling window instead, all the backward pass needs (an inference workspace has
                // no buffer for it, and keeps no codes).
                Span<byte> codes = ws.Inference ? Span<byte>.Empty
                    : MemoryMarshal.AsBytes(ws.Activations[i + 1].AsSpan()).Slice(0, batchSize * _widths[i + 3]);
                Span<float> pooled = ws.Activations[i + 2].AsSpan(0, batchSize * _widths[i + 3]);
                ((IFusesPooling)_layers[i]).ForwardFusedThrough((IFusablePooling)_layers[i + 2], current, codes, pooled, batchSize);
                current = pooled;
                i += 2;
                continue;
            }
            if (_fusedWithNext[i])
            {
                // The layer and its activation in one pass into the activation's buffer; the layer's own output buffer is
                // not needed, since the activation's backward reads its output and the layer's backward its input.
                Span<float> rectified = ws.Activations[i + 1].AsSpan(0, batchSize * _widths[i + 2]);
                ((IFusesActivation)_layers[i]).ForwardFused(current, rectified, batchSize);
                current = rectified;
                i++;
                continue;
            }
            Span<float> output = ws.Activations[i].AsSpan(0, batchSize * _widths[i + 1]);
            _layers[i].Forward(current, output, batchSize, training);
            current = output;
        }
        return current;
    }

    /// <summary>The batch-mean cost of the last forward pass in <paramref name="ws"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal float LossOf(Workspace ws, ICostFunction cost, ReadOnlySpan<float> targets, int batchSize)
    {
        ReadOnlySpan<float> output = ws.Activations[^1].AsSpan(0, batchSize * OutputSize);
        if (cost is IFusedOutputCost fused && fused.CanFuse(_layers[^1]))
            return fused.ValueFromLogits(LayerInput(ws, _layers.Length - 1, batchSize), output, targets, batchSize);
        return cost.Value(output, targets, batchSize);
    }

    /// <summary>Back-propagates the cost of the last forward pass, adding ∂C/∂θ into every parameter's gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Backward(Workspace ws, ReadOnlySpan<float> inputs, ICostFunction cost, ReadOnlySpan<float> targets, int batchSize)
    {
        int last = _layers.Length - 1;
        Span<float> gradient = ws.GradientA.AsSpan(0, batchSize * OutputSize);
        ReadOnlySpan<float> output = ws.Activations[last].AsSpan(0, batchSize * OutputSize);
        if (cost is IFusedOutputCost fused && fused.CanFuse(_layers[last]))
        {
            fused.LogitGradient(output, targets, gradient, batchSize); // ∂C/∂(input of the output activation)
            last--;
        }
        else
        {
            cost.Gradient(output, targets, gradient, batchSize);
        }

        Backpropagate(ws, inputs, last, batchSize, wantInputGradient: false);
    }

    /// <summary>
    /// Runs layers <paramref name="fromLayer"/>..0 backward, starting from ∂C/∂(output of fromLayer) in ws.GradientA.
    /// Returns ∂C/∂(network input) when <paramref name="wantInputGradient"/> (otherwise the first layer skips it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<float> Backpropagate(Workspace ws, ReadOnlySpan<float> inputs, int fromLayer, int batchSize, bool wantInputGradient)
    {
        float[] current = ws.GradientA, next = ws.GradientB;
        for (int i = fromLayer; i >= 0; i--)
        {
            if (ws.SharesInput(i)) continue; // ∂C/∂input is ∂C/∂output, already in place
            ReadOnlySpan<float> outputGradient = current.AsSpan(0, batchSize * _widths[i + 1]);
            if (_backwardThrough[i])
            {
                // Layer i (pooling), the ReLU before it and the layer fused with that ReLU go back in one call, sample by
                // sample, from the ReLU's output or, when the pooling ran inside the forward pass, from its window codes.
                float[] reluBuffer = ws.Activations[i - 1];
                bool codes = _forwardThrough[i];
                i -= 2;
                ReadOnlySpan<float> fusedInput = i == 0 ? inputs : ws.Activations[i - 1].AsSpan(0, batchSize * _widths[i]);
                Span<float> fusedInputGradient = i == 0 && !wantInputGradient ? Span<float>.Empty : next.AsSpan(0, batchSize * _widths[i]);
                var fused = (IFusesPooling)_layers[i];
                var pooling = (IFusablePooling)_layers[i + 2];
                if (codes)
                    fused.BackwardFusedThroughCodes(pooling, fusedInput, MemoryMarshal.AsBytes(reluBuffer.AsSpan()).Slice(0, batchSize * _widths[i + 3]), outputGradient, fusedInputGradient, batchSize);
                else
                    fused.BackwardFusedThrough(pooling, fusedInput, reluBuffer.AsSpan(0, batchSize * _widths[i + 2]), outputGradient, fusedInputGradient, batchSize);
                (current, next) = (next, current);
                continue;
            }
            if (i >= 1 && _fusedWithNext[i - 1])
            {
                // Layer i is an activation computed inside layer i − 1's forward pass: both go back in one call.
                ReadOnlySpan<float> activationOutput = ws.Activations[i].AsSpan(0, batchSize * _widths[i + 1]);
                i--;
                ReadOnlySpan<float> fusedInput = i == 0 ? inputs : ws.Activations[i - 1].AsSpan(0, batchSize * _widths[i]);
                Span<float> fusedInputGradient = i == 0 && !wantInputGradient ? Span<float>.Empty : next.AsSpan(0, batchSize * _widths[i]);
                ((IFusesActivation)_layers[i]).BackwardFused(fusedInput, activationOutput, outputGradient, fusedInputGradient, batchSize);
                (current, next) = (next, current);
                continue;
            }
            ReadOnlySpan<float> layerInput = i == 0 ? inputs : ws.Activations[i - 1].AsSpan(0, batchSize * _widths[i]);
            ReadOnlySpan<float> layerOutput = ws.Activations[i].AsSpan(0, batchSize * _widths[i + 1]);
            Span<float> inputGradient = i == 0 && !wantInputGradient ? Span<float>.Empty : next.AsSpan(0, batchSize * _widths[i]);
            _layers[i].Backward(layerInput, layerOutput, outputGradient, inputGradient, batchSize);
            (current, next) = (next, current);
        }
        return wantInputGradient ? current.AsSpan(0, batchSize * _widths[0]) : default;
    }

    /// <summary>Whether layer <paramref name="layer"/> goes back inside the backward pass of the layer fused with the ReLU before it.</summary>
    internal bool GoesBackThroughFusedLayer(int layer) => _backwardThrough[layer];

    /// <summary>Whether layer <paramref name="layer"/> runs forward inside the forward pass of the layer fused with the ReLU before it.</summary>
    internal bool GoesForwardThroughFusedLayer(int layer) => _forwardThrough[layer];

    /// <summary>The width of the activations entering layer i (i = Layers.Count: the network output).</summary>
    internal int WidthBefore(int layer) => _widths[layer];

    /// <summary>The predicted class of an output row: argmaxₖ aₖ, or for a single output 1 when a ≥ 0.5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int ArgMax(ReadOnlySpan<float> values) => values.Length == 1 ? (values[0] >= 0.5f ? 1 : 0) : ReductionKernels.IndexOfMax(values);

    private ReadOnlySpan<float> LayerInput(Workspace ws, int layer, int batchSize)
        => layer == 0 ? ws.Inputs.AsSpan(0, batchSize * InputSize) : ws.Activations[layer - 1].AsSpan(0, batchSize * _widths[layer]);

    private static Shape[] FoldShapes(ILayer[] layers, Shape? input)
    {
        if (input is null)
        {
            input = layers.Select(l => l.InputShape).FirstOrDefault(s => s is not null);
            if (input is null)
                throw new ArgumentException("No layer states the input shape (all adapt to what they receive); give it, as in new Network(Shape.Image(1, 28, 28), …).", nameof(layers));
        }
        var shapes = new Shape[layers.Length + 1];
        shapes[0] = input.Value;
        for (int i = 0; i < layers.Length; i++)
        {
            try
            {
                shapes[i + 1] = layers[i].Connect(shapes[i]);
            }
            catch (ArgumentException e)
            {
                string from = i == 0 ? "the network input" : $"layer {i - 1} {layers[i - 1].Name}";
                throw new ArgumentException($"Shape mismatch: {from} gives {shapes[i]}, layer {i} {e.Message.TrimEnd('.')}.", nameof(layers), e);
            }
            if (shapes[i + 1].Size == 0)
                throw new ArgumentException($"Layer {i} {layers[i].Name} returned an empty shape from Connect({shapes[i]}).", nameof(layers));
        }
        return shapes;
    }

    private static void CheckLength(int actual, long expected, string parameter, string what)
    {
        if (actual != expected) throw new ArgumentException($"Expected an {what} of {expected} values but got {actual}.", parameter);
    }

    // The message is built only when it is thrown: PredictBatch used to format it on every call (144 B per call).
    private static void CheckBatchLength(int actual, int batchSize, int width, string parameter, string what)
    {
        long expected = (long)batchSize * width;
        if (actual != expected) throw new ArgumentException($"Expected a batch of {batchSize} {what} of {width} values ({expected} in all) but got {actual} values.", parameter);
    }

    /// <summary>Buffers for one batch capacity: the input and target batch, every layer's output (shared where a layer allows), and two ping-pong gradient buffers (training workspaces only).</summary>
    internal sealed class Workspace
    {
        /// <param name="widths">Values per row entering each layer, then the output.</param>
        /// <param name="bufferOf">For each layer, the layer whose output buffer it uses (itself, or one of the same width), or -1 for none (never written).</param>
        /// <param name="sharesInput">The layers whose buffer is their input's, skipped forward and backward.</param>
        /// <param name="capacity">Rows.</param>
        /// <param name="inference">For forward passes outside training only (the identity-outside-training layers share buffers).</param>
        public Workspace(int[] widths, int[] bufferOf, bool[] sharesInput, int capacity, bool inference)
        {
            Capacity = capacity;
            Inference = inference;
            _sharesInput = sharesInput;
            int maxWidth = widths.Max();
            Inputs = new float[capacity * widths[0]];
            Targets = new float[capacity * widths[^1]];
            Activations = new float[widths.Length - 1][];
            for (int i = 0; i < Activations.Length; i++)
            {
                if (bufferOf[i] == i) Activations[i] = new float[capacity * widths[i + 1]];
            }
            for (int i = 0; i < Activations.Length; i++) Activations[i] = bufferOf[i] < 0 ? [] : Activations[bufferOf[i]];
            // Inference workspaces run forward passes only: no gradient buffers.
            GradientA = inference ? [] : new float[capacity * maxWidth];
            GradientB = inference ? [] : new float[capacity * maxWidth];
        }

        /// <summary>Floats a workspace holds per batch row.</summary>
        public static long FloatsPerRow(int[] widths, int[] bufferOf, bool inference)
            => widths[0] + bufferOf.Select((b, i) => b == i ? (long)widths[i + 1] : 0L).Sum() + widths[^1] + (inference ? 0 : 2L * widths.Max());

        private readonly bool[] _sharesInput;

        public int Capacity { get; }

        /// <summary>Whether this workspace serves forward passes outside training only.</summary>
        public bool Inference { get; }

        /// <summary>Whether layer i's output buffer is its input's: the layer is skipped, its values (and gradients) are already there.</summary>
        public bool SharesInput(int i) => _sharesInput[i];
        public float[] Inputs { get; }
        public float[] Targets { get; }
        public float[][] Activations { get; }
        public float[] GradientA { get; }
        public float[] GradientB { get; }
    }
}
