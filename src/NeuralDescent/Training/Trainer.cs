using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Numerics.Tensors;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;

namespace NeuralDescent.Training;

/// <summary>Trains a <see cref="Network"/> by mini-batch gradient descent: composes a cost, an optimizer and <see cref="TrainerOptions"/>.</summary>
/// <remarks>
/// <para><see cref="Fit(Network, Dataset, Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/> is this loop, written out so you can write it yourself:</para>
/// <code>
/// hold out ValidationSplit of the training set (Data stream of Seed)
/// for each epoch:
///     order ← shuffle(training indices) with the Shuffle stream of Seed   (unchanged when Shuffle is off)
///     for each mini-batch B of BatchSize indices in order:
///         x_B, t_B ← the samples, each x passed through Augmentation (Data stream)
///         zero every ∂C/∂θ
///         a ← network forward on x_B                                    (training mode: dropout active)
///         loss ← C(a, t_B) = (1/|B|) Σ c(a, t)
///         network backward: ∂C/∂θ for every parameter θ                 (fused softmax/sigmoid + cross-entropy: ∂C/∂z = (a − t)/|B|)
///         g ← g·min(1, c/‖g‖₂) when GradientClipNorm = c is set
///         η ← η₀·schedule(step); optimizer.Step, e.g. SGD θ ← θ − η ∂C/∂θ
///         callbacks.OnBatchEnd; report progress; stop here if cancellation was requested
///     evaluate the validation split and the test set; record an <see cref="EpochSummary"/>; callbacks.OnEpochEnd
/// </code>
/// <para>A NaN or infinite loss or gradient stops training with a <see cref="TrainingDivergedException"/> naming the
/// epoch, the batch and (for a gradient) the layer, thrown before that batch's update: the network keeps its last good weights.</para>
/// </remarks>
public sealed class Trainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="cost">The cost to minimize.</param>
    /// <param name="optimizer">The update rule.</param>
    /// <param name="options">Epochs, batch size, seed and the rest; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public Trainer(ICostFunction cost, IOptimizer optimizer, TrainerOptions? options = null)
    {
        Cost = cost ?? throw new ArgumentNullException(nameof(cost));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        Options = options ?? new TrainerOptions();
        if (Options.Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Epochs, "TrainerOptions.Epochs must be positive.");
        if (Options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.BatchSize, "TrainerOptions.BatchSize must be positive.");
        if (!(Options.ValidationSplit >= 0 && Options.ValidationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(options), Options.ValidationSplit, "TrainerOptions.ValidationSplit must be in [0, 1).");
        if (Options.GradientClipNorm is float clip && !(clip > 0 && float.IsFinite(clip)))
            throw new ArgumentOutOfRangeException(nameof(options), clip, "TrainerOptions.GradientClipNorm must be positive and finite.");
        if (Options.Callbacks is null || Options.Callbacks.Any(c => c is null))
            throw new ArgumentException("TrainerOptions.Callbacks must not be null or contain null.", nameof(options));
    }

    /// <summary>The cost being minimized.</summary>
    public ICostFunction Cost { get; }

    /// <summary>The update rule.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The run's settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// One gradient-descent step on one mini-batch: zero the gradients, forward, cost, backward, optimizer step
    /// (no schedule, clipping or callbacks). This is the core of <see cref="Fit(Network, Dataset, Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/>'s loop, for writing your own.
    /// </summary>
    /// <param name="network">The network to update.</param>
    /// <param name="inputs">batchSize × <see cref="Network.InputSize"/> features, row-major.</param>
    /// <param name="targets">batchSize × <see cref="Network.OutputSize"/> targets, row-major.</param>
    /// <param name="batchSize">Number of samples, B.</param>
    /// <returns>The batch-mean cost before the update, C = (1/B) Σ c(a, t); when it is not finite no update is made.</returns>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="batchSize"/> and the network's sizes.</exception>
    public float TrainBatch(Network network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (inputs.Length != (long)batchSize * network.InputSize)
            throw new ArgumentException($"Expected inputs of {batchSize}×{network.InputSize} values but got {inputs.Length}.", nameof(inputs));
        if (targets.Length != (long)batchSize * network.OutputSize)
            throw new ArgumentException($"Expected targets of {batchSize}×{network.OutputSize} values but got {targets.Length}.", nameof(targets));
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        Span<float> batchInputs = ws.Inputs.AsSpan(0, inputs.Length);
        inputs.CopyTo(batchInputs);
        float loss = ForwardBackward(network, ws, batchInputs, targets, batchSize);
        if (float.IsFinite(loss)) Optimizer.Step(network.Parameters);
        return loss;
    }

    /// <summary>Zero gradients, forward, loss and (if the loss is finite) backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float ForwardBackward(Network network, Network.Workspace ws, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        IReadOnlyList<Parameter> parameters = network.Parameters;
        for (int p = 0; p < parameters.Count; p++) parameters[p].ZeroGradient();
        network.ForwardInto(ws, inputs, batchSize, training: true);
        float loss = network.LossOf(ws, Cost, targets, batchSize);
        if (float.IsFinite(loss)) network.Backward(ws, inputs, Cost, targets, batchSize);
        return loss;
    }

    /// <summary>Trains on <paramref name="data"/>'s training set and measures its test set after every epoch.</summary>
    /// <param name="network">The network to train, in place.</param>
    /// <param name="data">Training and test sets, e.g. from <see cref="Mnist.Load"/>.</param>
    /// <param name="progress">Receives a report after every batch and at each epoch's end; called synchronously on the training thread.</param>
    /// <param name="cancellationToken">Stops training at the next batch boundary; the history then has <see cref="TrainingHistory.Cancelled"/> set.</param>
    /// <returns>Per-epoch losses, accuracies and durations.</returns>
    public TrainingHistory Fit(Network network, DataSplit data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Fit(network, data.Training, data.Test, progress, cancellationToken);
    }

    /// <summary>Trains on <paramref name="training"/>, measuring <paramref name="test"/> (if given) after every epoch.</summary>
    /// <param name="network">The network to train, in place.</param>
    /// <param name="training">The samples to learn from (less the validation split, if any).</param>
    /// <param name="test">Held-out samples to measure, or null.</param>
    /// <param name="progress">Receives a report after every batch and at each epoch's end.</param>
    /// <param name="cancellationToken">Stops training at the next batch boundary.</param>
    /// <returns>Per-epoch losses, accuracies and durations.</returns>
    /// <exception cref="ArgumentException">The data's sizes do not match the network.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TrainingHistory Fit(Network network, Dataset training, Dataset? test = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.CheckDataset(training);
        if (test is not null) network.CheckDataset(test);

        // Split off the validation samples with the data stream; the rest are trained on.
        ulong seed = unchecked((ulong)Options.Seed);
        RandomGenerator dataRandom = RandomGenerator.ForStream(seed, RandomStreamKind.Data);
        int[] all = Enumerable.Range(0, training.Count).ToArray();
        int validationCount = (int)(training.Count * Options.ValidationSplit);
        if (validationCount > 0) dataRandom.Shuffle(all);
        int[] order = all[..(training.Count - validationCount)];
        int[] validation = all[(training.Count - validationCount)..];
        if (order.Length == 0) throw new ArgumentException("The training set is empty (after the validation split).", nameof(training));

        var history = new TrainingHistory();
        IReadOnlyList<ITrainingCallback> callbacks = Options.Callbacks; // indexed below: no enumerator per batch
        var context = new TrainingContext(network, Cost, Optimizer, Options, history, validationCount > 0);
        int batchSize = Math.Min(Options.BatchSize, order.Length);
        int batches = (order.Length + batchSize - 1) / batchSize;
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        RandomGenerator shuffle = RandomGenerator.ForStream(seed, RandomStreamKind.Shuffle);
        IReadOnlyList<Parameter> parameters = network.Parameters;
        float baseRate = Optimizer.LearningRate;
        long step = 0;
        int firstEpoch = 1;
        RandomGenerator dropoutRandom = RandomGenerator.ForStream(seed, RandomStreamKind.Dropout);
        if (Options.ResumeFrom is Serialization.Checkpoint checkpoint)
        {
            checkpoint.Restore(network, Optimizer, order.Length);
            checkpoint.Order.CopyTo(order, 0);
            shuffle = RandomGenerator.FromState(checkpoint.Shuffle);
            dropoutRandom = RandomGenerator.FromState(checkpoint.Dropout);
            dataRandom = RandomGenerator.FromState(checkpoint.Data);
            baseRate = checkpoint.BaseLearningRate;
            Optimizer.LearningRate = baseRate;
            step = checkpoint.Step;
            firstEpoch = checkpoint.Epoch + 1;
        }
        network.SetTrainingRandom(dropoutRandom);
        var health = new HealthTracker(network);
        context.Capture = () => Serialization.Checkpoint.Capture(network, Optimizer, context.Epoch, step, baseRate, shuffle, dropoutRandom, dataRandom, order);

        for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnTrainingStart(context);
        try
        {
            for (int epoch = firstEpoch; epoch <= Options.Epochs && !context.StopRequested; epoch++)
            {
                context.Epoch = epoch;
                health.StartEpoch();
                if (Options.Shuffle) shuffle.Shuffle(order);
                long started = Stopwatch.GetTimestamp();
                double lossSum = 0;
                int seen = 0, correct = 0;
                for (int batch = 0; batch < batches; batch++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        history.Cancelled = true;
                        return history;
                    }
                    int start = batch * batchSize;
                    int b = Math.Min(batchSize, order.Length - start);
                    ReadOnlySpan<int> indices = order.AsSpan(start, b);
                    Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
                    Span<float> targets = ws.Targets.AsSpan(0, b * network.OutputSize);
                    training.CopyBatch(indices, inputs, targets);
                    if (Options.Augmentation is IAugmentation augmentation)
                    {
                        for (int i = 0; i < b; i++) augmentation.Apply(inputs.Slice(i * network.InputSize, network.InputSize), dataRandom);
                    }

                    float loss = ForwardBackward(network, ws, inputs, targets, b);
                    if (!float.IsFinite(loss))
                        throw new TrainingDivergedException($"Training diverged: the {Cost.Name} loss is {loss} at epoch {epoch}, batch {batch + 1} of {batches}. The weights are those of the last good step; lower the learning rate (now {Optimizer.LearningRate}), clip gradients or normalize the inputs.", epoch, batch + 1, null);
                    float norm = GradientNorm(network, parameters, health, epoch, batch + 1, batches);
                    if (Options.GradientClipNorm is float clip && norm > clip)
                    {
                        float scale = clip / norm;
                        for (int p = 0; p < parameters.Count; p++) TensorPrimitives.Multiply(parameters[p].Gradient, scale, parameters[p].Gradient);
                    }
                    if (Options.LearningRateSchedule is LearningRateSchedule schedule)
                        Optimizer.LearningRate = (float)(baseRate * schedule.Factor(step, batches));
                    Optimizer.Step(parameters);
                    step++;

                    correct += network.CountCorrect(ws.Activations[^1].AsSpan(0, b * network.OutputSize), training, indices);
                    lossSum += (double)loss * b;
                    seen += b;
                    var summary = new BatchSummary(epoch, batch + 1, batches, loss, Optimizer.LearningRate, norm);
                    for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnBatchEnd(context, summary);
                    progress?.Report(new TrainingProgress(epoch, Options.Epochs, batch + 1, batches, (float)(lossSum / seen), null));
                    if (context.StopRequested) break;
                }
                TimeSpan duration = Stopwatch.GetElapsedTime(started);
                EpochSummary epochSummary = Summarize(network, training, validation, test, epoch, lossSum / seen, (double)correct / seen, duration) with { Health = health.EndEpoch() };
                history.Add(epochSummary);
                foreach (LayerHealth layer in epochSummary.Health)
                {
                    string? kind = layer.GradientRms < Options.VanishingGradientRms ? "vanishing-gradient" : layer.GradientRms > Options.ExplodingGradientRms ? "exploding-gradient" : null;
                    if (kind is null) continue;
                    var warning = new TrainingWarning(epoch, layer.Layer, layer.Name, kind,
                        $"Epoch {epoch}: the gradients of layer {layer.Layer} {layer.Name} {(kind == "vanishing-gradient" ? "vanish" : "explode")} (RMS {layer.GradientRms:G3}, threshold {(kind == "vanishing-gradient" ? Options.VanishingGradientRms : Options.ExplodingGradientRms):G3}).");
                    for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnWarning(context, warning);
                }
                for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnEpochEnd(context, epochSummary);
                progress?.Report(new TrainingProgress(epoch, Options.Epochs, batches, batches, epochSummary.TrainingLoss, epochSummary));
            }
            history.StopReason = context.StopReason;
            for (int c = 0; c < callbacks.Count; c++) callbacks[c].OnTrainingEnd(context);
            return history;
        }
        finally
        {
            if (Options.LearningRateSchedule is not null) Optimizer.LearningRate = baseRate;
        }
    }

    private EpochSummary Summarize(Network network, Dataset training, int[] validation, Dataset? test, int epoch, double loss, double accuracy, TimeSpan duration)
    {
        float? testLoss = null, validationLoss = null;
        double? testAccuracy = null, validationAccuracy = null;
        if (validation.Length > 0)
        {
            EvaluationResult v = network.Evaluate(training, Cost, validation);
            validationLoss = v.Loss;
            validationAccuracy = v.Accuracy;
        }
        if (test is not null && test.Count > 0 && Options.EvaluateEachEpoch)
        {
            EvaluationResult t = network.Evaluate(test, Cost);
            testLoss = t.Loss;
            testAccuracy = t.Accuracy;
        }
        return new EpochSummary(epoch, (float)loss, accuracy, testLoss, testAccuracy, duration)
        {
            ValidationLoss = validationLoss,
            ValidationAccuracy = validationAccuracy,
            LearningRate = Optimizer.LearningRate,
        };
    }

    /// <summary>‖g‖₂ over all parameters; throws, naming the layer, when a gradient is not finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float GradientNorm(Network network, IReadOnlyList<Parameter> parameters, HealthTracker health, int epoch, int batch, int batches)
    {
        double sum = 0;
        health.BeginBatch();
        for (int p = 0; p < parameters.Count; p++)
        {
            float norm = TensorPrimitives.Norm(parameters[p].Gradient);
            health.AddParameterNorm(p, norm);
            if (!float.IsFinite(norm))
            {
                string layer = network.DescribeLayerOf(parameters[p]);
                throw new TrainingDivergedException($"Training diverged: the gradient of {layer}'s {parameters[p].Name} is not finite at epoch {epoch}, batch {batch} of {batches}. The weights are those of the last good step; lower the learning rate, clip gradients (TrainerOptions.GradientClipNorm) or normalize the inputs.", epoch, batch, layer);
            }
            sum += (double)norm * norm;
        }
        health.EndBatch();
        return (float)Math.Sqrt(sum);
    }

    /// <summary>Per-layer gradient norms (averaged over an epoch's batches) and update-to-weight ratios.</summary>
    private sealed class HealthTracker
    {
        private readonly Network _network;
        private readonly int[] _layerOf;          // parameter index → layer index
        private readonly int[] _layers;           // layer indices with parameters
        private readonly double[] _batchSquares;  // per layer, this batch
        private readonly double[] _normSums;      // per layer, Σ over batches of ‖g‖
        private readonly float[][] _start;        // parameter values at the epoch's start
        private int _batches;

        public HealthTracker(Network network)
        {
            _network = network;
            var layerOf = new List<int>();
            for (int l = 0; l < network.Layers.Count; l++)
                foreach (Parameter _ in network.Layers[l].Parameters) layerOf.Add(l);
            _layerOf = [.. layerOf];
            _layers = _layerOf.Distinct().ToArray();
            _batchSquares = new double[network.Layers.Count];
            _normSums = new double[network.Layers.Count];
            _start = network.Parameters.Select(p => new float[p.Length]).ToArray();
        }

        public void StartEpoch()
        {
            Array.Clear(_normSums);
            _batches = 0;
            for (int p = 0; p < _start.Length; p++) _network.Parameters[p].Values.CopyTo(_start[p]);
        }

        public void BeginBatch() => Array.Clear(_batchSquares);

        public void AddParameterNorm(int parameter, float norm) => _batchSquares[_layerOf[parameter]] += (double)norm * norm;

        public void EndBatch()
        {
            foreach (int l in _layers) _normSums[l] += Math.Sqrt(_batchSquares[l]);
            _batches++;
        }

        public List<LayerHealth> EndEpoch()
        {
            var result = new List<LayerHealth>(_layers.Length);
            foreach (int l in _layers)
            {
                double delta = 0, weight = 0;
                long count = 0;
                for (int p = 0; p < _start.Length; p++)
                {
                    if (_layerOf[p] != l) continue;
                    ReadOnlySpan<float> now = _network.Parameters[p].Values;
                    for (int i = 0; i < now.Length; i++)
                    {
                        double d = now[i] - _start[p][i];
                        delta += d * d;
                        weight += (double)_start[p][i] * _start[p][i];
                    }
                    count += now.Length;
                }
                double norm = _batches == 0 ? 0 : _normSums[l] / _batches;
                result.Add(new LayerHealth(l, _network.Layers[l].Name, norm, norm / Math.Sqrt(Math.Max(1, count)), weight > 0 ? Math.Sqrt(delta / weight) : double.PositiveInfinity));
            }
            return result;
        }
    }
}
