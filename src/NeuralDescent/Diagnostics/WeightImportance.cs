using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;

namespace NeuralDescent.Diagnostics;

/// <summary>One weight and how much the cost responds to it.</summary>
/// <param name="Layer">Index of the layer in the network.</param>
/// <param name="Parameter">The parameter's name (<c>weight</c> or <c>bias</c>).</param>
/// <param name="Row">Row of the value (the output unit of a dense weight).</param>
/// <param name="Column">Column of the value (the input it reads).</param>
/// <param name="Importance">Mean |∂C/∂w| over the batches measured.</param>
public sealed record WeightImportance(int Layer, string Parameter, int Row, int Column, double Importance);

/// <summary>
/// The tutorial's takeaway as a measurement: the gradient's magnitude ranks how much each weight matters to the cost
/// right now (a first-order sensitivity: nudging w by δ changes C by about ∂C/∂w·δ).
/// </summary>
public static class WeightImportanceAnalysis
{
    /// <summary>Mean |∂C/∂w| for every parameter value, over <paramref name="data"/> in batches of <paramref name="batchSize"/>.</summary>
    /// <param name="network">The network; its gradients are left zeroed.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="data">The samples (for speed, a slice such as 1,000 images is plenty).</param>
    /// <param name="batchSize">Samples per backward pass.</param>
    /// <returns>One array per parameter of <see cref="Network.Parameters"/>, same layout as its values.</returns>
    public static float[][] Map(Network network, ICostFunction cost, Dataset data, int batchSize = 100)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        network.CheckDataset(data);
        IReadOnlyList<Parameter> parameters = network.Parameters;
        float[][] sums = parameters.Select(p => new float[p.Length]).ToArray();
        batchSize = Math.Min(batchSize, Math.Max(1, data.Count));
        using Network.TrainingScope scope = network.BeginTraining(); // writes the gradients: not alongside training
        Network.Workspace ws = network.WorkspaceFor(batchSize);
        var indices = new int[batchSize];
        int batches = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int b = Math.Min(batchSize, data.Count - start);
            for (int i = 0; i < b; i++) indices[i] = start + i;
            Span<float> inputs = ws.Inputs.AsSpan(0, b * network.InputSize);
            Span<float> targets = ws.Targets.AsSpan(0, b * network.OutputSize);
            data.CopyBatch(indices.AsSpan(0, b), inputs, targets);
            foreach (Parameter p in parameters) p.ZeroGradient();
            network.ForwardInto(ws, inputs, b, training: false);
            network.Backward(ws, inputs, cost, targets, b);
            for (int p = 0; p < parameters.Count; p++)
            {
                Span<float> g = parameters[p].Gradient;
                for (int i = 0; i < g.Length; i++) sums[p][i] += Math.Abs(g[i]);
            }
            batches++;
        }
        foreach (Parameter p in parameters) p.ZeroGradient();
        foreach (float[] s in sums)
        {
            for (int i = 0; i < s.Length; i++) s[i] /= Math.Max(1, batches);
        }
        return sums;
    }

    /// <summary>The <paramref name="count"/> weights with the largest mean |∂C/∂w|, largest first.</summary>
    /// <param name="network">The network.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="data">The samples.</param>
    /// <param name="count">How many to return.</param>
    /// <returns>The ranking.</returns>
    public static IReadOnlyList<WeightImportance> Top(Network network, ICostFunction cost, Dataset data, int count = 20)
    {
        float[][] map = Map(network, cost, data);
        var owners = new List<(int Layer, Parameter P)>();
        for (int l = 0; l < network.Layers.Count; l++)
            foreach (Parameter p in network.Layers[l].Parameters) owners.Add((l, p));
        return owners.SelectMany((o, k) => map[k].Select((v, i) => new WeightImportance(o.Layer, o.P.Name, i / o.P.Columns, i % o.P.Columns, v)))
            .OrderByDescending(w => w.Importance).Take(count).ToList();
    }
}
