using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;
using NeuralDescent.Metrics;

namespace NeuralDescent.Diagnostics;

/// <summary>
/// Views of the cost surface around a network: along the straight line between two weight vectors, and on a 2-D slice
/// through the current weights along two random, filter-normalized directions (Li et al., 2018).
/// </summary>
/// <remarks>The network's weights are restored after every call.</remarks>
public static class LossLandscape
{
    /// <summary>A copy of every parameter's values, for <see cref="Line"/>.</summary>
    /// <param name="network">The network.</param>
    /// <returns>One array per parameter.</returns>
    public static float[][] Snapshot(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Parameters.Select(p => p.Values.ToArray()).ToArray();
    }

    /// <summary>C((1 − α)·θ_start + α·θ_end) for <paramref name="points"/> values of α evenly spaced from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="network">The network whose architecture the weights fit.</param>
    /// <param name="start">θ_from, e.g. the initial weights (<see cref="Snapshot"/> before training).</param>
    /// <param name="end">θ_to, e.g. the trained weights.</param>
    /// <param name="data">The samples the cost is measured on.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="points">Number of α values; default 25.</param>
    /// <param name="from">First α; default −0.25 (a little before the start).</param>
    /// <param name="to">Last α; default 1.25.</param>
    /// <returns>The α values and the cost at each.</returns>
    public static (double[] Alpha, double[] Loss) Line(Network network, float[][] start, float[][] end, Dataset data, ICostFunction cost, int points = 25, double from = -0.25, double to = 1.25)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        CheckShape(network, start, nameof(start));
        CheckShape(network, end, nameof(end));
        float[][] saved = Snapshot(network);
        var alphas = new double[points];
        var losses = new double[points];
        try
        {
            for (int k = 0; k < points; k++)
            {
                double alpha = from + (to - from) * k / (points - 1);
                for (int p = 0; p < saved.Length; p++)
                {
                    Span<float> v = network.Parameters[p].Values;
                    for (int i = 0; i < v.Length; i++) v[i] = (float)((1 - alpha) * start[p][i] + alpha * end[p][i]);
                }
                alphas[k] = alpha;
                losses[k] = Evaluator.Evaluate(network, data, cost).Loss;
            }
        }
        finally
        {
            Restore(network, saved);
        }
        return (alphas, losses);
    }

    /// <summary>
    /// C(θ + a·d₁ + b·d₂) on a <paramref name="gridSize"/>×<paramref name="gridSize"/> grid of (a, b) in [−radius, radius]²,
    /// where each row (filter) of each weight matrix in d₁, d₂ is Gaussian noise rescaled to that row's norm in θ, and biases are not moved.
    /// </summary>
    /// <param name="network">The network, at the weights to look around.</param>
    /// <param name="data">The samples.</param>
    /// <param name="cost">The cost.</param>
    /// <param name="gridSize">Points per axis; default 21.</param>
    /// <param name="radius">Half-width of the grid in units of the normalized directions; default 1.</param>
    /// <param name="seed">Seed of the directions.</param>
    /// <returns>The axis coordinates and loss[i, j] at (coordinates[i], coordinates[j]).</returns>
    public static (double[] Coordinates, double[,] Loss) Slice(Network network, Dataset data, ICostFunction cost, int gridSize = 21, double radius = 1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(gridSize, 2);
        if (!(radius > 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius must be positive.");
        float[][] center = Snapshot(network);
        var random = RandomGenerator.ForStream(unchecked((ulong)seed), RandomStreamKind.Data);
        float[][] d1 = FilterNormalizedDirection(network, center, random), d2 = FilterNormalizedDirection(network, center, random);
        var coordinates = new double[gridSize];
        for (int i = 0; i < gridSize; i++) coordinates[i] = -radius + 2 * radius * i / (gridSize - 1);
        var losses = new double[gridSize, gridSize];
        try
        {
            for (int i = 0; i < gridSize; i++)
            for (int j = 0; j < gridSize; j++)
            {
                for (int p = 0; p < center.Length; p++)
                {
                    Span<float> v = network.Parameters[p].Values;
                    for (int e = 0; e < v.Length; e++) v[e] = (float)(center[p][e] + coordinates[i] * d1[p][e] + coordinates[j] * d2[p][e]);
                }
                losses[i, j] = Evaluator.Evaluate(network, data, cost).Loss;
            }
        }
        finally
        {
            Restore(network, center);
        }
        return (coordinates, losses);
    }

    private static float[][] FilterNormalizedDirection(Network network, float[][] center, RandomGenerator random)
    {
        var direction = new float[center.Length][];
        for (int p = 0; p < center.Length; p++)
        {
            Parameter parameter = network.Parameters[p];
            direction[p] = new float[parameter.Length];
            if (parameter.Rows == 1) continue; // biases stay put, as in Li et al.
            for (int r = 0; r < parameter.Rows; r++)
            {
                Span<float> d = direction[p].AsSpan(r * parameter.Columns, parameter.Columns);
                ReadOnlySpan<float> w = center[p].AsSpan(r * parameter.Columns, parameter.Columns);
                for (int c = 0; c < d.Length; c++) d[c] = (float)random.NextNormal();
                float dn = System.Numerics.Tensors.TensorPrimitives.Norm(d), wn = System.Numerics.Tensors.TensorPrimitives.Norm(w);
                if (dn > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(d, wn / dn, d);
            }
        }
        return direction;
    }

    private static void CheckShape(Network network, float[][] weights, string name)
    {
        if (weights.Length != network.Parameters.Count || weights.Where((w, i) => w.Length != network.Parameters[i].Length).Any())
            throw new ArgumentException("The weights do not match the network's parameters (use LossLandscape.Snapshot of the same network).", name);
    }

    private static void Restore(Network network, float[][] saved)
    {
        for (int p = 0; p < saved.Length; p++) saved[p].CopyTo(network.Parameters[p].Values);
    }
}
