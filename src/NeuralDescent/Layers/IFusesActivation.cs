namespace NeuralDescent.Layers;

/// <summary>
/// A layer that can apply the activation after it in the same pass over its output (a ReLU in a GEMM's store), so the
/// network need not name concrete layers to fuse them.
/// </summary>
/// <remarks>The fused activation's backward must read only its output (as ReLU's does), since the layer's own output
/// buffer is then never written; the layer's backward must not read its output either.</remarks>
internal interface IFusesActivation : ILayer
{
    /// <summary>Whether <paramref name="next"/> can be computed inside this layer's forward pass.</summary>
    bool CanFuse(ILayer next);

    /// <summary>Forward followed by the fused activation, written into the activation's output buffer.</summary>
    void ForwardFused(ReadOnlySpan<float> input, Span<float> output, int batchSize);

    /// <summary>
    /// The fused activation's backward followed by this layer's: <paramref name="activationGradient"/> is ∂C/∂(activation
    /// output) and <paramref name="activationOutput"/> that output; the activation's derivative is applied to each
    /// sample's slice while it is in cache, with the same arithmetic as the activation's own backward.
    /// </summary>
    void BackwardFused(ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput, ReadOnlySpan<float> activationGradient, Span<float> inputGradient, int batchSize);
}
