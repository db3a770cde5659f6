using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Numerics.Tensors;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;
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
/// <para>Thread safety: a trainer runs one <c>Fit</c> at a time (its optimizer keeps per-parameter state); the network
/// it trains refuses predictions from other threads meanwhile. Separate trainers may train separate networks at once.</para>
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
    /// One gradient-descent step on one mini-batch: <see cref="ComputeGradients"/> then, when the loss is finite, the
    /// optimizer's step (no schedule, clipping or callbacks). This is the core of <see cref="Fit(Network, Dataset, Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/>'s loop.
    /// </summary>
    /// <param name="network">The network to update.</param>
    /// <param name="inputs">batchSize × <see cref="Network.InputSize"/> features, row-major.</param>
    /// <param name="targets">batchSize × <see cref="Network.OutputSize"/> targets, row-major.</param>
    /// <param name="batchSize">Number of samples, B.</param>
    /// <returns>The batch-mean cost before the update, C = (1/B) Σ c(a, t); when it is not finite no update is made.</returns>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="batchSize"/> and the network's sizes.</exception>
    public float TrainBatch(Network network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        float loss = ComputeGradients(network, inputs, targets, batchSize);
        if (float.IsFinite(loss)) Optimizer.Step(network.Parameters);
        return loss;
    }

    /// <summary>
    /// Computes the loss of one mini-batch and its gradient without updating anything: every parameter's
    /// <see cref="Parameter.Gradient"/> is set to ∂C/∂θ of the batch-mean cost C = (1/B) Σ c(a, t), with the network in
    /// training mode (dropout active, batch normalization on batch statistics).
    /// </summary>
    /// <remarks>
    /// The building block of a hand-written loop: inspect or rescale the gradients, then call
    /// <c>trainer.Optimizer.Step(network.Parameters)</c>. Gradients are zeroed first, so they are those of this batch only.
    /// </remarks>
    /// <param name="network">The network; its parameters are not changed.</param>
    /// <param name="inputs">batchSize × <see cref="Network.InputSize"/> features, row-major.</param>
    /// <param name="targets">batchSize × <see cref="Network.OutputSize"/> targets, row-major.</param>
    /// <param name="batchSize">Number of samples, B.</param>
    /// <returns>C; when it is not finite the gradients are left at zero.</returns>
    /// <exception cref="ArgumentException">A span's length does not match <paramref name="batchSize"/> and the network's sizes.</exception>
    public float ComputeGradients(Network network, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (inputs.Length != (long)batchSize * network.InputSize)
            throw new ArgumentException($"Expected inputs of {batchSize}×{network.InputSize} values but got {inputs.Length}.", nameof(inputs));
        if (targets.Length != (long)batchSize * network.OutputSize)
            throw new ArgumentException($"Expected targets of {batchSize}×{network.OutputSize} values but got {targets.Length}.", nameof(targets));
        using Network.TrainingScope training = network.BeginTraining();
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        Span<float> batchInputs = ws.Inputs.AsSpan(0, inputs.Length);
        inputs.CopyTo(batchInputs);
        return TrainingStep.ForwardBackward(network, Cost, ws, batchInputs, targets, batchSize);
    }

    /// <summary>Trains on <paramref name="data"/>'s training set and measures its test set after every epoch.</summary>
    /// <param name="network">The network to train, in place.</param>
    /// <param name="data">Training and test sets, e.g. from <see cref="Mnist.Load(string, bool)"/>.</param>
    /// <param name="progress">Receives a report after every batch and at each epoch's end; called synchronously on the training thread.</param>
    /// <param name="cancellationToken">Stops training at the next batch boundary; the history then has <see cref="TrainingHistory.Cancelled"/> set.</param>
    /// <returns>Per-epoch losses, accuracies and durations.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in a required parameter's type (DataSplit or Dataset), so a call can never be ambiguous.")]
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
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in a required parameter's type (DataSplit or Dataset), so a call can never be ambiguous.")]
    public TrainingHistory Fit(Network network, Dataset training, Dataset? test = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.CheckDataset(training);
        if (test is not null) network.CheckDataset(test);

        using Network.TrainingScope scope = network.BeginTraining();
        var batches = new BatchSource(training, Options);
        var history = new TrainingHistory();
        var context = new TrainingContext(network, Cost, Optimizer, Options, history, batches.Validation.Length > 0) { BatchesPerEpoch = batches.Batches };
        var step = new TrainingStep(network, Cost, Optimizer, Options, Optimizer.LearningRate);
        RandomGenerator dropout = RandomGenerator.ForStream(unchecked((ulong)Options.Seed), RandomStreamKind.Dropout);
        int firstEpoch = 1;
        if (Options.ResumeFrom is Serialization.Checkpoint checkpoint)
        {
            checkpoint.Restore(network, Optimizer, batches.Order.Length);
            batches.Restore(checkpoint);
            dropout = RandomGenerator.FromState(checkpoint.Dropout);
            step.BaseRate = Optimizer.LearningRate = checkpoint.BaseLearningRate;
            step.Count = checkpoint.Step;
            firstEpoch = checkpoint.Epoch + 1;
        }
        network.SetTrainingRandom(dropout);
        context.Capture = () => Serialization.Checkpoint.Capture(network, Optimizer, context.Epoch, step.Count, step.BaseRate, batches.ShuffleRandom, dropout, batches.DataRandom, batches.Order);
        var health = new GradientHealthMonitor(network, Options, step.ParameterNorms);
        // Built-in observers first (health) and last (progress), the user's callbacks between; indexed: no enumerator per batch.
        ITrainingCallback[] callbacks = [health, .. Options.Callbacks, .. progress is null ? Array.Empty<ITrainingCallback>() : [new ProgressCallback(progress)]];
        Network.Workspace ws = network.WorkspaceFor(batches.BatchSize);

        foreach (ITrainingCallback callback in callbacks) callback.OnTrainingStart(context);
        try
        {
            for (int epoch = firstEpoch; epoch <= Options.Epochs && !context.StopRequested; epoch++)
            {
                context.Epoch = epoch;
                foreach (ITrainingCallback callback in callbacks) callback.OnEpochStart(context, epoch);
                batches.StartEpoch();
                long started = Stopwatch.GetTimestamp();
                double lossSum = 0;
                int seen = 0, correct = 0;
                for (int batch = 0; batch < batches.Batches && !context.StopRequested; batch++)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        history.Cancelled = true;
                        return history;
                    }
                    int b = batches.Fill(batch, ws.Inputs, ws.Targets);
                    BatchSummary summary = step.Run(ws, b, epoch, batch + 1, batches.Batches);
                    correct += Evaluator.CountCorrect(ws.Activations[^1].AsSpan(0, b * network.OutputSize), network.OutputSize, training, batches.Indices(batch));
                    lossSum += (double)summary.Loss * b;
                    seen += b;
                    for (int c = 0; c < callbacks.Length; c++) callbacks[c].OnBatchEnd(context, summary);
                }
                List<LayerHealth> layers = health.Summarize();
                EpochSummary epochSummary = Summarize(network, training, batches.Validation, test, epoch, lossSum / seen, (double)correct / seen, Stopwatch.GetElapsedTime(started)) with { Health = layers };
                history.Add(epochSummary);
                foreach (TrainingWarning warning in health.Warnings(epoch, layers))
                {
                    foreach (ITrainingCallback callback in callbacks) callback.OnWarning(context, warning);
                }
                foreach (ITrainingCallback callback in callbacks) callback.OnEpochEnd(context, epochSummary);
            }
            history.StopReason = context.StopReason;
            foreach (ITrainingCallback callback in callbacks) callback.OnTrainingEnd(context);
            return history;
        }
        finally
        {
            if (Options.LearningRateSchedule is not null) Optimizer.LearningRate = step.BaseRate;
        }
    }

    private EpochSummary Summarize(Network network, Dataset training, int[] validation, Dataset? test, int epoch, double loss, double accuracy, TimeSpan duration)
    {
        float? testLoss = null, validationLoss = null;
        double? testAccuracy = null, validationAccuracy = null;
        if (validation.Length > 0)
        {
            EvaluationResult v = Evaluator.Evaluate(network, training, Cost, validation);
            validationLoss = v.Loss;
            validationAccuracy = v.Accuracy;
        }
        if (test is not null && test.Count > 0 && Options.EvaluateEachEpoch)
        {
            EvaluationResult t = Evaluator.Evaluate(network, test, Cost);
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
}
