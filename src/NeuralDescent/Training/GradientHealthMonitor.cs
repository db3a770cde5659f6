using System.Runtime.CompilerServices;
using NeuralDescent.Layers;

namespace NeuralDescent.Training;

/// <summary>
/// The built-in callback that watches gradient health: per layer, the mean over an epoch's batches of ‖∂C/∂θ‖₂ and the
/// update-to-weight ratio, reported in <see cref="EpochSummary.Health"/>, with a <see cref="TrainingWarning"/> for
/// every layer whose gradients vanish or explode.
/// </summary>
internal sealed class GradientHealthMonitor : ITrainingCallback
{
    private readonly Network _network;
    private readonly TrainerOptions _options;
    private readonly float[] _parameterNorms; // the step's per-parameter norms of the last batch
    private readonly int[] _layerOf;          // parameter index → layer index
    private readonly int[] _layers;           // layer indices with parameters
    private readonly double[] _batchSquares;  // per layer, this batch
    private readonly double[] _normSums;      // per layer, Σ over batches of ‖g‖
    private readonly float[][] _start;        // parameter values at the epoch's start
    private int _batches;

    public GradientHealthMonitor(Network network, TrainerOptions options, float[] parameterNorms)
    {
        _network = network;
        _options = options;
        _parameterNorms = parameterNorms;
        var layerOf = new List<int>();
        for (int l = 0; l < network.Layers.Count; l++)
            foreach (Parameter _ in network.Layers[l].Parameters) layerOf.Add(l);
        _layerOf = [.. layerOf];
        _layers = _layerOf.Distinct().ToArray();
        _batchSquares = new double[network.Layers.Count];
        _normSums = new double[network.Layers.Count];
        _start = network.Parameters.Select(p => new float[p.Length]).ToArray();
    }

    public void OnEpochStart(TrainingContext context, int epoch)
    {
        Array.Clear(_normSums);
        _batches = 0;
        for (int p = 0; p < _start.Length; p++) _network.Parameters[p].Values.CopyTo(_start[p]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnBatchEnd(TrainingContext context, BatchSummary batch)
    {
        Array.Clear(_batchSquares);
        for (int p = 0; p < _parameterNorms.Length; p++) _batchSquares[_layerOf[p]] += (double)_parameterNorms[p] * _parameterNorms[p];
        foreach (int l in _layers) _normSums[l] += Math.Sqrt(_batchSquares[l]);
        _batches++;
    }

    /// <summary>Each layer's health over the epoch that just ended.</summary>
    public List<LayerHealth> Summarize()
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

    /// <summary>The layers whose epoch-mean gradient RMS is below the vanishing or above the exploding threshold.</summary>
    public IEnumerable<TrainingWarning> Warnings(int epoch, IReadOnlyList<LayerHealth> health)
    {
        foreach (LayerHealth layer in health)
        {
            if (layer.GradientRms < _options.VanishingGradientRms)
                yield return Warning(layer, TrainingWarningKind.VanishingGradient, "vanish", _options.VanishingGradientRms);
            else if (layer.GradientRms > _options.ExplodingGradientRms)
                yield return Warning(layer, TrainingWarningKind.ExplodingGradient, "explode", _options.ExplodingGradientRms);
        }

        TrainingWarning Warning(LayerHealth layer, TrainingWarningKind kind, string verb, double threshold)
            => new(epoch, layer.Layer, layer.Name, kind, $"Epoch {epoch}: the gradients of layer {layer.Layer} {layer.Name} {verb} (RMS {layer.GradientRms:G3}, threshold {threshold:G3}).");
    }
}
