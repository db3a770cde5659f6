using System.Globalization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;

namespace NeuralDescent.Serialization;

/// <summary>
/// Everything needed to continue a training run exactly: the network's weights, the optimizer's state (momentum
/// buffers, Adam moments, step count), the learning-rate schedule position, the epoch, the sample order and the state
/// of every random stream. Resuming from the checkpoint of epoch k gives bitwise the same weights as never stopping.
/// </summary>
/// <remarks>
/// Stored as a safetensors file (written atomically): the network's tensors under their model names, optimizer buffers
/// as <c>optimizer.{parameter}.{state}</c>, the sample order as <c>trainer.order</c>, and the scalars in <c>__metadata__</c>.
/// Save one with the <see cref="Training.ModelCheckpoint"/> callback (or <see cref="Training.TrainingContext.SaveCheckpoint"/>)
/// and resume with <see cref="Training.TrainerOptions.ResumeFrom"/>. Callback state (such as early stopping's patience) is not included.
/// </remarks>
public sealed class Checkpoint
{
    private const string Prefix = "neuraldescent.checkpoint.";

    internal Checkpoint(int epoch, long step, float baseLearningRate, string optimizer, long optimizerSteps,
        (ulong, ulong, ulong, ulong) shuffle, (ulong, ulong, ulong, ulong) dropout, (ulong, ulong, ulong, ulong) data,
        int[] order, List<Tensor> networkTensors, string architecture, string? inputShape, float[][][] optimizerState, IReadOnlyList<string> stateNames)
    {
        Epoch = epoch;
        Step = step;
        BaseLearningRate = baseLearningRate;
        Optimizer = optimizer;
        OptimizerSteps = optimizerSteps;
        Shuffle = shuffle;
        Dropout = dropout;
        Data = data;
        Order = order;
        NetworkTensors = networkTensors;
        Architecture = architecture;
        InputShape = inputShape;
        OptimizerState = optimizerState;
        StateNames = stateNames;
    }

    /// <summary>Epochs completed when the checkpoint was taken.</summary>
    public int Epoch { get; }

    /// <summary>Optimizer steps taken by the run (the schedule's t).</summary>
    public long Step { get; }

    /// <summary>η₀, the optimizer's learning rate when the run started.</summary>
    public float BaseLearningRate { get; }

    /// <summary>The optimizer's type name; resuming needs the same type.</summary>
    public string Optimizer { get; }

    internal long OptimizerSteps { get; }
    internal (ulong, ulong, ulong, ulong) Shuffle { get; }
    internal (ulong, ulong, ulong, ulong) Dropout { get; }
    internal (ulong, ulong, ulong, ulong) Data { get; }
    internal int[] Order { get; }
    internal List<Tensor> NetworkTensors { get; }
    internal string Architecture { get; }
    internal string? InputShape { get; }
    internal float[][][] OptimizerState { get; }
    internal IReadOnlyList<string> StateNames { get; }

    /// <summary>Writes the checkpoint atomically.</summary>
    /// <param name="path">The file to create or replace.</param>
    public void Save(string path)
    {
        var tensors = new List<Tensor>(NetworkTensors);
        for (int p = 0; p < OptimizerState.Length; p++)
        {
            for (int s = 0; s < OptimizerState[p].Length; s++)
                tensors.Add(new Tensor($"optimizer.{p}.{StateNames[s]}", [OptimizerState[p][s].Length], OptimizerState[p][s]));
        }
        // Sample indices below 2²⁴ are exact in float32.
        tensors.Add(new Tensor("trainer.order", [Order.Length], Order.Select(i => (float)i).ToArray()));
        var metadata = new Dictionary<string, string>
        {
            [ModelFile.FormatKey] = "1",
            [ModelFile.ArchitectureKey] = Architecture,
            [Prefix + "epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
            [Prefix + "step"] = Step.ToString(CultureInfo.InvariantCulture),
            [Prefix + "base_learning_rate"] = BaseLearningRate.ToString("R", CultureInfo.InvariantCulture),
            [Prefix + "optimizer"] = Optimizer,
            [Prefix + "optimizer_steps"] = OptimizerSteps.ToString(CultureInfo.InvariantCulture),
            [Prefix + "rng.shuffle"] = Hex(Shuffle),
            [Prefix + "rng.dropout"] = Hex(Dropout),
            [Prefix + "rng.data"] = Hex(Data),
            [Prefix + "state_names"] = string.Join(',', StateNames),
        };
        if (InputShape is not null) metadata[ModelFile.InputShapeKey] = InputShape;
        AtomicFile.Write(path, stream => SafeTensors.Write(stream, tensors, metadata));
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint; the message names the problem.</exception>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (List<Tensor> tensors, Dictionary<string, string> metadata) = SafeTensors.Read(path);
        string Meta(string key) => metadata.TryGetValue(Prefix + key, out string? v) ? v : throw SafeTensors.Error(path, $"__metadata__ has no '{Prefix + key}': not a NeuralDescent checkpoint");
        long Long(string key, long max) => long.TryParse(Meta(key), NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v <= max
            ? v : throw SafeTensors.Error(path, $"checkpoint field '{key}' = '{Meta(key)}' is not a whole number in [0, {max}]");
        if (!metadata.TryGetValue(ModelFile.ArchitectureKey, out string? architecture)) throw SafeTensors.Error(path, "the checkpoint has no architecture");
        // Validates the network part (shapes against the architecture) the same way a model file is checked.
        var networkTensors = tensors.Where(t => !t.Name.StartsWith("optimizer.", StringComparison.Ordinal) && !t.Name.StartsWith("trainer.", StringComparison.Ordinal)).ToList();
        Network check = ModelFile.Build(path, networkTensors, metadata);
        string optimizer = Meta("optimizer");
        string[] stateNames = Meta("state_names").Length == 0 ? [] : Meta("state_names").Split(',');
        if (stateNames.Any(string.IsNullOrEmpty) || stateNames.Distinct(StringComparer.Ordinal).Count() != stateNames.Length)
            throw SafeTensors.Error(path, $"optimizer state names '{Meta("state_names")}' are empty or repeated");
        if (BuiltInStateNames.TryGetValue(optimizer, out IReadOnlyList<string>? expected) && !expected.SequenceEqual(stateNames))
            throw SafeTensors.Error(path, $"optimizer {optimizer} keeps state [{string.Join(", ", expected)}] but the checkpoint names [{string.Join(", ", stateNames)}]");
        int parameterCount = check.Parameters.Count;
        var usedState = new HashSet<string>(StringComparer.Ordinal);
        var state = new float[parameterCount][][];
        for (int p = 0; p < parameterCount; p++)
        {
            var buffers = new List<float[]>();
            foreach (string s in stateNames)
            {
                Tensor? t = tensors.FirstOrDefault(x => x.Name == $"optimizer.{p}.{s}");
                if (t is null) continue;
                if (t.Data.Length != check.Parameters[p].Length) throw SafeTensors.Error(path, $"optimizer state '{t.Name}' has {t.Data.Length} values but parameter {p} has {check.Parameters[p].Length}");
                if (Array.Exists(t.Data, v => !float.IsFinite(v))) throw SafeTensors.Error(path, $"optimizer state '{t.Name}' holds a value that is not finite");
                buffers.Add(t.Data);
                usedState.Add(t.Name);
            }
            if (buffers.Count != 0 && buffers.Count != stateNames.Length) throw SafeTensors.Error(path, $"parameter {p} has {buffers.Count} of its {stateNames.Length} optimizer state buffers");
            state[p] = [.. buffers];
        }
        string? stray = tensors.Select(t => t.Name).FirstOrDefault(n => (n.StartsWith("optimizer.", StringComparison.Ordinal) && !usedState.Contains(n))
            || (n.StartsWith("trainer.", StringComparison.Ordinal) && n != "trainer.order"));
        if (stray is not null) throw SafeTensors.Error(path, $"tensor '{stray}' belongs to no parameter's optimizer state or trainer field");
        Tensor order = tensors.FirstOrDefault(t => t.Name == "trainer.order") ?? throw SafeTensors.Error(path, "tensor 'trainer.order' is missing");
        int[] indices = new int[order.Data.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            float v = order.Data[i];
            if (!(v >= 0 && v < (1 << 24)) || v != MathF.Floor(v)) throw SafeTensors.Error(path, $"trainer.order[{i}] = {v} is not a sample index");
            indices[i] = (int)v;
        }
        if (indices.Length == 0) throw SafeTensors.Error(path, "trainer.order is empty");
        var seen = new HashSet<int>();
        foreach (int index in indices)
        {
            if (!seen.Add(index)) throw SafeTensors.Error(path, $"trainer.order names sample {index} twice; it must be a permutation of the training samples");
        }
        if (!float.TryParse(Meta("base_learning_rate"), NumberStyles.Float, CultureInfo.InvariantCulture, out float baseRate) || !(baseRate > 0))
            throw SafeTensors.Error(path, "checkpoint field 'base_learning_rate' is not a positive number");
        if (!float.IsFinite(baseRate)) throw SafeTensors.Error(path, "checkpoint field 'base_learning_rate' is not finite");
        return new Checkpoint((int)Long("epoch", int.MaxValue - 1), Long("step", long.MaxValue), baseRate, optimizer, Long("optimizer_steps", long.MaxValue),
            ParseHex(path, Meta("rng.shuffle")), ParseHex(path, Meta("rng.dropout")), ParseHex(path, Meta("rng.data")),
            indices, networkTensors, architecture, metadata.GetValueOrDefault(ModelFile.InputShapeKey), state, stateNames);
    }

    /// <summary>Captures a run's state (called by the trainer).</summary>
    internal static Checkpoint Capture(Network network, IOptimizer optimizer, int epoch, long step, float baseRate,
        RandomGenerator shuffle, RandomGenerator dropout, RandomGenerator data, int[] order)
    {
        if (optimizer is not StatefulOptimizer stateful)
            throw new NotSupportedException($"Checkpoints need an optimizer derived from StatefulOptimizer; {optimizer.GetType().Name} is not.");
        (List<Tensor> tensors, Dictionary<string, string> metadata) = ModelFile.Describe(network);
        float[][][] state = stateful.ExportState(network.Parameters);
        return new Checkpoint(epoch, step, baseRate, optimizer.GetType().Name, stateful.StepCount, shuffle.GetState(), dropout.GetState(), data.GetState(),
            (int[])order.Clone(), tensors, metadata[ModelFile.ArchitectureKey], metadata[ModelFile.InputShapeKey], state, stateful.StateNames);
    }

    /// <summary>Puts the weights and optimizer state back (called by the trainer when resuming).</summary>
    internal void Restore(Network network, IOptimizer optimizer, int trainingCount)
    {
        Dictionary<string, string> described = ModelFile.Describe(network).Metadata;
        string architecture = described[ModelFile.ArchitectureKey];
        if (architecture != Architecture || (InputShape is not null && InputShape != described[ModelFile.InputShapeKey]))
            throw new ArgumentException($"The checkpoint's architecture {Architecture} (input {InputShape}) differs from the network's {architecture} (input {described[ModelFile.InputShapeKey]}).", nameof(network));
        if (optimizer is not StatefulOptimizer stateful || optimizer.GetType().Name != Optimizer)
            throw new ArgumentException($"The checkpoint was taken with {Optimizer}; resume it with the same optimizer type, not {optimizer.GetType().Name}.", nameof(optimizer));
        if (!stateful.StateNames.SequenceEqual(StateNames))
            throw new ArgumentException($"The checkpoint's optimizer state [{string.Join(", ", StateNames)}] is not the [{string.Join(", ", stateful.StateNames)}] that {Optimizer} keeps.", nameof(optimizer));
        if (Order.Length != trainingCount || Order.Any(i => i < 0))
            throw new ArgumentException($"The checkpoint's sample order covers {Order.Length} samples but this run trains on {trainingCount}; resume with the same data and validation split.", nameof(trainingCount));
        ModelFile.CopyInto(network, NetworkTensors);
        stateful.ImportState(OptimizerSteps, network.Parameters, OptimizerState);
    }

    /// <summary>The state each built-in optimizer keeps, by type name, to check a checkpoint against when it is loaded.</summary>
    private static readonly Dictionary<string, IReadOnlyList<string>> BuiltInStateNames =
        new StatefulOptimizer[] { new Sgd(0.1f), new Momentum(0.1f), new AdaGrad(), new RmsProp(), new Adam(), new AdamW() }
            .ToDictionary(o => o.GetType().Name, o => o.StateNames, StringComparer.Ordinal);

    private static string Hex((ulong A, ulong B, ulong C, ulong D) s) => $"{s.A:x16}{s.B:x16}{s.C:x16}{s.D:x16}";

    private static (ulong, ulong, ulong, ulong) ParseHex(string path, string text)
    {
        if (text.Length != 64 || !ulong.TryParse(text.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong a)
            || !ulong.TryParse(text.AsSpan(16, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong b)
            || !ulong.TryParse(text.AsSpan(32, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong c)
            || !ulong.TryParse(text.AsSpan(48, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong d)
            || (a | b | c | d) == 0)
            throw SafeTensors.Error(path, $"random state '{text}' is not 64 hex digits of a valid xoshiro256** state");
        return (a, b, c, d);
    }
}
