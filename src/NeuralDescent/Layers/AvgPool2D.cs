namespace NeuralDescent.Layers;

/// <summary>Average pooling: y[c, i, j] = (1/k²) Σ over the window of x[c, i·s + u, j·s + v].</summary>
/// <remarks>Backward: every input position receives (1/k²)·∂C/∂y of each window that holds it.</remarks>
public sealed class AvgPool2D : Pool2D
{
    /// <summary>Creates an average-pooling layer.</summary>
    /// <param name="kernelSize">k, the side of the window.</param>
    /// <param name="stride">s; null for k.</param>
    public AvgPool2D(int kernelSize, int? stride = null) : base(kernelSize, stride)
    {
    }

    private protected override bool IsMax => false;
}
