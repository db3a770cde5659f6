using NeuralDescent.Kernels;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
        ParameterNorms = new float[network.Parameters.Count];
    }

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
    private float GradientNorm(IReadOnlyList<Parameter> parameters, int epoch, int batch, int batches)
    {
        double sum = 0;
        for (int p = 0; p < parameters.Count; p++)
        {
            ReadOnlySpan<float> g = parameters[p].Gradient;
            float norm = MathF.Sqrt(ReductionKernels.Dot(g, g));
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
}
