using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using NeuralDescent.Kernels;
using NeuralDescent.Kernels.Common;
using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Training;

/// <summary>
/// One step of <see cref="Trainer.Fit(Network, Data.Dataset, Data.Dataset?, IProgress{TrainingProgress}?, CancellationToken)"/>
/// on a batch already in the workspace: forward, loss, backward, the NaN guard, clipping, the schedule and the update.
/// </summary>
internal sealed class TrainingStep
{
    private readonly Network _network;
    private readonly ICostFunction _cost;
    private readonly IOptimizer _optimizer;
    private readonly TrainerOptions _options;

    public TrainingStep(Network network, ICostFunction cost, IOptimizer optimizer, TrainerOptions options, float baseRate)
    {
        _network = network;
        _cost = cost;
        _optimizer = optimizer;
        _options = options;
        BaseRate = baseRate;
        IReadOnlyList<Parameter> parameters = network.Parameters;
        ParameterNorms = new float[parameters.Count];
        _firstBlock = new int[parameters.Count + 1];
        for (int p = 0; p < parameters.Count; p++)
        {
            _firstBlock[p + 1] = _firstBlock[p] + (parameters[p].Length + NormBlock - 1) / NormBlock;
            _normValues += parameters[p].Length;
        }
        _normJob = new NormJob(parameters, _firstBlock, new float[_firstBlock[^1]]);
    }

    /// <summary>
    /// Values per block of a gradient's Σg²: each block is summed on its own (<see cref="ReductionKernels.Dot"/>) and the
    /// blocks are added in order in double, so a norm does not depend on how many threads took the blocks.
    /// </summary>
    internal const int NormBlock = 8192;

    /// <summary>Gradient values below which the norms are taken on one thread.</summary>
    private const long NormParallelThreshold = 1L << 16;

    private readonly int[] _firstBlock; // parameter p's blocks are _firstBlock[p] .. _firstBlock[p + 1] − 1
    private readonly long _normValues;
    private readonly NormJob _normJob;

    /// <summary>η₀, which the schedule scales.</summary>
    public float BaseRate { get; set; }

    /// <summary>Optimizer steps taken by the run (the schedule's t).</summary>
    public long Count { get; set; }

    /// <summary>‖∂C/∂θ‖₂ of every parameter in the last step, before clipping.</summary>
    public float[] ParameterNorms { get; }

    /// <summary>Zero gradients, forward (training mode), loss and, when the loss is finite, backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ForwardBackward(Network network, ICostFunction cost, Network.Workspace ws, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        IReadOnlyList<Parameter> parameters = network.Parameters;
        for (int p = 0; p < parameters.Count; p++) parameters[p].ZeroGradient();
        network.ForwardInto(ws, inputs, batchSize, training: true);
        float loss = network.LossOf(ws, cost, targets, batchSize);
        if (float.IsFinite(loss)) network.Backward(ws, inputs, cost, targets, batchSize);
        return loss;
    }

    /// <summary>Trains on the <paramref name="b"/> samples in the workspace; throws <see cref="TrainingDivergedException"/> before updating when the loss or a gradient is not finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public BatchSummary Run(Network.Workspace ws, int b, int epoch, int batch, int batches)
    {
        ReadOnlySpan<float> inputs = ws.Inputs.AsSpan(0, b * _network.InputSize);
        ReadOnlySpan<float> targets = ws.Targets.AsSpan(0, b * _network.OutputSize);
        float loss = ForwardBackward(_network, _cost, ws, inputs, targets, b);
        if (!float.IsFinite(loss))
            throw new TrainingDivergedException($"Training diverged: the {_cost.Name} loss is {loss} at epoch {epoch}, batch {batch} of {batches}. The weights are those of the last good step; lower the learning rate (now {_optimizer.LearningRate}), clip gradients or normalize the inputs.", epoch, batch, null);
        IReadOnlyList<Parameter> parameters = _network.Parameters;
        float norm = GradientNorm(parameters, epoch, batch, batches);
        if (_options.GradientClipNorm is float clip && norm > clip)
        {
            float scale = clip / norm;
            for (int p = 0; p < parameters.Count; p++) TensorPrimitives.Multiply(parameters[p].Gradient, scale, parameters[p].Gradient);
        }
        if (_options.LearningRateSchedule is LearningRateSchedule schedule)
            _optimizer.LearningRate = (float)(BaseRate * schedule.Factor(Count, batches));
        _optimizer.Step(parameters);
        Count++;
        return new BatchSummary(epoch, batch, batches, loss, _optimizer.LearningRate, norm) { Samples = b };
    }

    /// <summary>‖g‖₂ over all parameters, keeping each parameter's norm; throws, naming the layer, when a gradient is not finite.</summary>
    /// <remarks>
    /// The kernel threads take a contiguous share of every parameter's blocks, in order, as the optimizer's update takes
    /// a share of its values: for a weight gradient that is about the rows each core just wrote in the backward pass, so
    /// the gradient is read where it is cached instead of from the other core.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float GradientNorm(IReadOnlyList<Parameter> parameters, int epoch, int batch, int batches)
    {
        int threads = ComputeOptions.ThreadCount;
        WorkerPool.Run(_normJob, threads > 1 && _normValues >= NormParallelThreshold ? threads : 1);
        float[] squares = _normJob.Squares;
        double sum = 0;
        for (int p = 0; p < parameters.Count; p++)
        {
            double squared = 0;
            for (int b = _firstBlock[p]; b < _firstBlock[p + 1]; b++) squared += squares[b];
            float norm = (float)Math.Sqrt(squared);
            ParameterNorms[p] = norm;
            if (!float.IsFinite(norm))
            {
                string layer = _network.DescribeLayerOf(parameters[p]);
                throw new TrainingDivergedException($"Training diverged: the gradient of {layer}'s {parameters[p].Name} is not finite at epoch {epoch}, batch {batch} of {batches}. The weights are those of the last good step; lower the learning rate, clip gradients (TrainerOptions.GradientClipNorm) or normalize the inputs.", epoch, batch, layer);
            }
            sum += (double)norm * norm;
        }
        return (float)Math.Sqrt(sum);
    }

    /// <summary>Σg² of every <see cref="NormBlock"/> block of every gradient; part i of n takes blocks [b·i/n, b·(i+1)/n) of each parameter.</summary>
    private sealed class NormJob(IReadOnlyList<Parameter> parameters, int[] firstBlock, float[] squares) : IParallelJob
    {
        public float[] Squares => squares;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
        {
            for (int p = 0; p < parameters.Count; p++)
            {
                ReadOnlySpan<float> g = parameters[p].Gradient;
                int blocks = firstBlock[p + 1] - firstBlock[p];
                int b0 = (int)((long)blocks * part / parts), b1 = (int)((long)blocks * (part + 1) / parts);
                for (int b = b0; b < b1; b++)
                {
                    ReadOnlySpan<float> block = g.Slice(b * NormBlock, Math.Min(NormBlock, g.Length - b * NormBlock));
                    squares[firstBlock[p] + b] = ReductionKernels.Dot(block, block);
                }
            }
        }
    }
}
