using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Diagnostics;

/// <summary>A 2-D function to descend, with its gradient.</summary>
/// <param name="X">x.</param>
/// <param name="Y">y.</param>
/// <returns>f(x, y), ∂f/∂x and ∂f/∂y.</returns>
public delegate (double Value, double GradX, double GradY) SurfaceFunction(double X, double Y);

/// <summary>
/// Optimizers walking a 2-D surface, to see how momentum carries a path across shallow local minima where plain
/// gradient descent settles in the first one it meets.
/// </summary>
public static class OptimizerPaths
{
    /// <summary>
    /// A bowl with ripples: f(x, y) = 0.05(x² + y²) − 0.6·exp(−((x − 1)² + (y − 1)²)) − 1.2·exp(−((x + 2)² + (y + 1.5)²)/2)
    /// − 0.25·cos(2x)·cos(2y): a shallow well near (1, 1), the global minimum near (−2, −1.5), and small ripples everywhere.
    /// </summary>
    public static SurfaceFunction Ripples { get; } = (x, y) =>
    {
        double a = Math.Exp(-((x - 1) * (x - 1) + (y - 1) * (y - 1)));
        double b = Math.Exp(-((x + 2) * (x + 2) + (y + 1.5) * (y + 1.5)) / 2);
        double c = Math.Cos(2 * x) * Math.Cos(2 * y);
        double value = 0.05 * (x * x + y * y) - 0.6 * a - 1.2 * b - 0.25 * c;
        double gx = 0.1 * x + 1.2 * (x - 1) * a + 1.2 * (x + 2) * b + 0.5 * Math.Sin(2 * x) * Math.Cos(2 * y);
        double gy = 0.1 * y + 1.2 * (y - 1) * a + 1.2 * (y + 1.5) * b + 0.5 * Math.Cos(2 * x) * Math.Sin(2 * y);
        return (value, gx, gy);
    };

    /// <summary>Runs <paramref name="optimizer"/> for <paramref name="steps"/> steps from (<paramref name="x0"/>, <paramref name="y0"/>) on <paramref name="function"/>.</summary>
    /// <param name="optimizer">Any optimizer (a fresh one: it keeps state).</param>
    /// <param name="function">The surface.</param>
    /// <param name="x0">Start x.</param>
    /// <param name="y0">Start y.</param>
    /// <param name="steps">Number of steps.</param>
    /// <returns>The path, start included: steps + 1 points (x, y, f).</returns>
    public static IReadOnlyList<(double X, double Y, double Value)> Trace(IOptimizer optimizer, SurfaceFunction function, double x0, double y0, int steps)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var point = new Parameter("xy", 1, 2);
        point.Values[0] = (float)x0;
        point.Values[1] = (float)y0;
        var path = new List<(double, double, double)>(steps + 1);
        Parameter[] parameters = [point];
        for (int s = 0; s <= steps; s++)
        {
            double x = point.Values[0], y = point.Values[1];
            (double value, double gx, double gy) = function(x, y);
            path.Add((x, y, value));
            if (s == steps) break;
            point.Gradient[0] = (float)gx;
            point.Gradient[1] = (float)gy;
            optimizer.Step(parameters);
        }
        return path;
    }
}
