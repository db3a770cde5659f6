namespace NeuralDescent.Layers;

/// <summary>Max pooling: y[c, i, j] = max over the window of x[c, i·s + u, j·s + v].</summary>
/// <remarks>Backward passes each window's gradient to the position of its maximum (the first one, row-major, on ties),
/// found again from the input, so nothing is stored between the passes.</remarks>
public sealed class MaxPool2D : Pool2D
{
    /// <summary>Creates a max-pooling layer.</summary>
    /// <param name="kernelSize">k, the side of the window, e.g. 2.</param>
    /// <param name="stride">s; null for k.</param>
    public MaxPool2D(int kernelSize, int? stride = null) : base(kernelSize, stride)
    {
    }

    private protected override bool IsMax => true;
}
