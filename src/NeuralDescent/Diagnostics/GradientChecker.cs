using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;

namespace NeuralDescent.Diagnostics;

/// <summary>The result of a gradient check for one layer.</summary>
/// <param name="Layer">Index of the layer in the network.</param>
/// <param name="Name">The layer's name, e.g. <c>Dense(784→30)</c>.</param>
/// <param name="Checked">How many of its parameters were compared.</param>
/// <param name="MaxRelativeError">max |a − n| / max(|a| + |n|, floor) over them, a = backpropagation, n = central difference.</param>
public sealed record LayerGradientCheck(int Layer, string Name, int Checked, double MaxRelativeError);

/// <summary>
/// Compares backpropagation with central finite differences, ∂C/∂θ ≈ (C(θ + h) − C(θ − h)) / 2h, for any network and
/// cost, and reports the largest relative error per layer.
/// </summary>
/// <remarks>
/// The network computes in float32, so with h = 1e-2 the difference quotient carries a rounding error of about
/// 1e-5·|C|/h; relative errors below about 1e-2 mean the gradients agree, errors near 1 mean a bug (or a
/// non-differentiable point such as a ReLU kink inside [θ − h, θ + h]). The floor 1e-6 keeps near-zero pairs from
/// dividing by nothing. Dropout is best left out of a check (its mask changes between passes).
/// </remarks>
public static class GradientChecker
{
    /// <summary>Checks the gradient of the batch-mean cost over the first <paramref name="samples"/> samples of <paramref name="data"/>.</summary>
    /// <param name="network">The network; its parameters are restored afterwards and its gradients left zeroed.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="data">Where the samples come from.</param>
    /// <param name="samples">Batch size of the check; default 8.</param>
    /// <param name="parametersPerLayer">How many randomly chosen parameters of each layer to compare; default 20.</param>
    /// <param name="step">h; default 1e-2.</param>
    /// <param name="seed">Chooses the parameters.</param>
    /// <returns>One row per layer with parameters.</returns>
    public static IReadOnlyList<LayerGradientCheck> Check(Network network, ICostFunction cost, Dataset data, int samples = 8, int parametersPerLayer = 20, double step = 1e-2, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parametersPerLayer);
        if (!(step > 0)) throw new ArgumentOutOfRangeException(nameof(step), step, "The step h must be positive.");
        network.CheckDataset(data);
        int b = Math.Min(samples, data.Count);
        using Network.TrainingScope scope = network.BeginTraining(); // writes the gradients: not alongside training
        Network.Workspace ws = network.WorkspaceFor(b);
        int[] indices = Enumerable.Range(0, b).ToArray();
        Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
        float[] targets = new float[b * network.OutputSize];
        data.CopyBatch(indices, inputs, targets);

        foreach (Parameter p in network.Parameters) p.ZeroGradient();
        network.ForwardInto(ws, inputs, b, training: false);
        network.Backward(ws, inputs, cost, targets, b);

        double Loss()
        {
            network.ForwardInto(ws, ws.Inputs.AsSpan(0, b * network.InputSize), b, training: false);
            return network.LossOf(ws, cost, targets, b);
        }

        var random = new RandomGenerator(unchecked((ulong)seed));
        var report = new List<LayerGradientCheck>();
        for (int l = 0; l < network.Layers.Count; l++)
        {
            ILayer layer = network.Layers[l];
            if (layer.Parameters.Count == 0) continue;
            double worst = 0;
            int checkedCount = 0;
            foreach (Parameter p in layer.Parameters)
            {
                float[] analytic = p.Gradient.ToArray();
                int count = Math.Min(parametersPerLayer, p.Length);
                for (int c = 0; c < count; c++)
                {
                    int i = count == p.Length ? c : random.NextInt32(p.Length);
                    float saved = p.Values[i];
                    float up = (float)(saved + step), down = (float)(saved - step);
                    p.Values[i] = up;
                    double plus = Loss();
                    p.Values[i] = down;
                    double minus = Loss();
                    p.Values[i] = saved;
                    double numeric = (plus - minus) / ((double)up - down);
                    double error = Math.Abs(analytic[i] - numeric) / Math.Max(Math.Abs(analytic[i]) + Math.Abs(numeric), 1e-6);
                    worst = Math.Max(worst, error);
                    checkedCount++;
                }
            }
            report.Add(new LayerGradientCheck(l, layer.Name, checkedCount, worst));
        }
        foreach (Parameter p in network.Parameters) p.ZeroGradient();
        return report;
    }
}
