namespace NeuralDescent.Layers;

/// <summary>Which built-in activation a layer is, for the fusions the library makes (a ReLU into the GEMM store before it, softmax or sigmoid into the cost after it).</summary>
internal enum ActivationKind
{
    /// <summary>Nothing to fuse.</summary>
    Other,

    /// <summary>max(0, x): fused into the store of the dense or convolution layer before it.</summary>
    ReLU,

    /// <summary>Softmax: fused with cross-entropy.</summary>
    Softmax,

    /// <summary>The logistic sigmoid: fused with binary cross-entropy.</summary>
    Sigmoid,
}
