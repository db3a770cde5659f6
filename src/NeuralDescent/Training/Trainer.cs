using System.Diagnostics;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;

namespace NeuralDescent.Training;

/// <summary>Trains a <see cref="Network"/> by mini-batch gradient descent: composes a cost, an optimizer and <see cref="TrainerOptions"/>.</summary>
/// <remarks>
/// <para><see cref="Fit(Network, Dataset, Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/> is this loop, written out so you can write it yourself:</para>
/// <code>
/// for each epoch:
///     order ← shuffle(0..N−1) with the Shuffle stream of Seed        (or 0..N−1 when Shuffle is off)
///     for each mini-batch B of BatchSize indices in order:
///         zero every ∂C/∂θ
///         a ← network forward on x_B                                 (training mode)
///         loss ← C(a, t_B) = (1/|B|) Σ c(a, t)
///         network backward: ∂C/∂θ for every parameter θ              (fused softmax/sigmoid + cross-entropy: ∂C/∂z = (a − t)/|B|)
///         optimizer.Step: e.g. SGD θ ← θ − η ∂C/∂θ
///         report progress; stop here if cancellation was requested
///     evaluate the test set; record an <see cref="EpochSummary"/>
/// </code>
/// <para>A non-finite batch loss stops training with an <see cref="InvalidOperationException"/> naming the epoch and batch.</para>
/// </remarks>
public sealed class Trainer
{
    /// <summary>Creates a trainer.</summary>
    /// <param name="cost">The cost to minimize.</param>
    /// <param name="optimizer">The update rule.</param>
    /// <param name="options">Epochs, batch size, seed and shuffling; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">Epochs or batch size is not positive.</exception>
    public Trainer(ICostFunction cost, IOptimizer optimizer, TrainerOptions? options = null)
    {
        Cost = cost ?? throw new ArgumentNullException(nameof(cost));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        Options = options ?? new TrainerOptions();
        if (Options.Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Epochs, "TrainerOptions.Epochs must be positive.");
        if (Options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.BatchSize, "TrainerOptions.BatchSize must be positive.");
    }

    /// <summary>The cost being minimized.</summary>
    public ICostFunction Cost { get; }

    /// <summary>The update rule.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The run's settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// One gradient-descent step on one mini-batch: zero the gradients, forward, cost, backward, optimizer step.
    /// This is the body of <see cref="Fit(Network, Dataset, Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/>'s loop, for writing your own.
    /// </summary>
    /// <param name="network">The network to update.</param>
    /// <param name="inputs">batchSize × <see cref="Network.InputSize"/> features, row-major.</param>
    /// <param name="targets">batchSize × <see cref="Network.OutputSize"/> targets, row-major.</param>
    /// <param name="batchSize">Number of samples, B.</param>
    /// <returns>The batch-mean cost before the update, C = (1/B) Σ c(a, t).</returns>
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
        return StepCore(network, ws, batchInputs, targets, batchSize);
    }

    private float StepCore(Network network, Network.Workspace ws, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        IReadOnlyList<Layers.Parameter> parameters = network.Parameters;
        for (int p = 0; p < parameters.Count; p++) parameters[p].ZeroGradient();
        network.ForwardInto(ws, inputs, batchSize, training: true);
        float loss = network.LossOf(ws, Cost, targets, batchSize);
        if (!float.IsFinite(loss)) return loss; // the caller reports divergence; the weights stay as they were
        network.Backward(ws, inputs, Cost, targets, batchSize);
        Optimizer.Step(parameters);
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
    /// <param name="training">The samples to learn from.</param>
    /// <param name="test">Held-out samples to measure, or null.</param>
    /// <param name="progress">Receives a report after every batch and at each epoch's end.</param>
    /// <param name="cancellationToken">Stops training at the next batch boundary.</param>
    /// <returns>Per-epoch losses, accuracies and durations.</returns>
    /// <exception cref="ArgumentException">The data's sizes do not match the network.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (the message names epoch and batch).</exception>
    public TrainingHistory Fit(Network network, Dataset training, Dataset? test = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.CheckDataset(training);
        if (test is not null) network.CheckDataset(test);
        if (training.Count == 0) throw new ArgumentException("The training set is empty.", nameof(training));

        var history = new TrainingHistory();
        int batchSize = Math.Min(Options.BatchSize, training.Count);
        int batches = (training.Count + batchSize - 1) / batchSize;
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        var order = new int[training.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        RandomGenerator shuffle = RandomGenerator.ForStream(unchecked((ulong)Options.Seed), RandomStreamKind.Shuffle);

        for (int epoch = 1; epoch <= Options.Epochs; epoch++)
        {
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
                int b = Math.Min(batchSize, training.Count - start);
                ReadOnlySpan<int> indices = order.AsSpan(start, b);
                Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
                Span<float> targets = ws.Targets.AsSpan(0, b * network.OutputSize);
                training.CopyBatch(indices, inputs, targets);

                float loss = StepCore(network, ws, inputs, targets, b);
                if (!float.IsFinite(loss))
                    throw new InvalidOperationException($"Training diverged: the {Cost.Name} loss is {loss} at epoch {epoch}, batch {batch + 1} of {batches}. Lower the learning rate (now {Optimizer.LearningRate}) or normalize the inputs.");
                correct += network.CountCorrect(ws.Activations[^1].AsSpan(0, b * network.OutputSize), training, indices);

                lossSum += (double)loss * b;
                seen += b;
                progress?.Report(new TrainingProgress(epoch, Options.Epochs, batch + 1, batches, (float)(lossSum / seen), null));
            }
            TimeSpan duration = Stopwatch.GetElapsedTime(started);
            float? testLoss = null;
            double? testAccuracy = null;
            if (test is not null && test.Count > 0 && Options.EvaluateEachEpoch)
            {
                EvaluationResult result = network.Evaluate(test, Cost);
                testLoss = result.Loss;
                testAccuracy = result.Accuracy;
            }
            var summary = new EpochSummary(epoch, (float)(lossSum / seen), (double)correct / seen, testLoss, testAccuracy, duration);
            history.Add(summary);
            progress?.Report(new TrainingProgress(epoch, Options.Epochs, batches, batches, summary.TrainingLoss, summary));
        }
        return history;
    }
}
