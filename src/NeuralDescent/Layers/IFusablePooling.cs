namespace NeuralDescent.Layers;

/// <summary>
/// A parameter-free pooling layer that a layer fused with the ReLU before it (<see cref="IFusesPooling"/>) can take into
/// its own passes: backward sample by sample, while each sample is in cache, and, for 2 × 2 max windows, forward too,
/// instead of separate passes over the whole batch.
/// </summary>
internal interface IFusablePooling : ILayer
{
    /// <summary>Floats of one sample entering (<c>Input</c>) and leaving (<c>Output</c>) this layer.</summary>
    (int Input, int Output) SampleSizes { get; }

    /// <summary>Whether the windows are 2 × 2 maxima at stride 2, the forward pass a layer may fuse.</summary>
    bool IsMaxPool2x2 { get; }

    /// <summary>
    /// For one sample: this layer's backward from <paramref name="outputGradient"/>, then ReLU's (the gradient times 0
    /// where <paramref name="input"/>, the ReLU's output, is not positive), written into
    /// <paramref name="reluInputGradient"/> with the same arithmetic as the two layers' own backward passes, so the
    /// result is bitwise theirs. Called from several kernel threads at once.
    /// </summary>
    void BackwardThroughRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> reluInputGradient);

    /// <summary>
    /// <see cref="BackwardThroughRelu"/> for 2 × 2 max windows from the one-byte window codes a fused forward pass kept
    /// instead of the ReLU's output (<see cref="Kernels.ConvolutionKernels.PositiveBit"/>); bitwise the same result.
    /// </summary>
    void BackwardFromWindowCodes(ReadOnlySpan<byte> windowCodes, ReadOnlySpan<float> outputGradient, Span<float> reluInputGradient);
}

/// <summary>A layer fused with the ReLU after it that can also take in the pooling layer after that ReLU.</summary>
internal interface IFusesPooling : IFusesActivation
{
    /// <summary>Whether this layer's fused <paramref name="activation"/> is a ReLU, so the pooling's backward can run inside this layer's.</summary>
    bool CanFuseBackward(ILayer activation, IFusablePooling pooling);

    /// <summary>Whether the pooling's forward pass can run inside this layer's too (bitwise as the pooling layer computes it).</summary>
    bool CanFuseForward(ILayer activation, IFusablePooling pooling);

    /// <summary>
    /// This layer's forward pass, the ReLU and 2 × 2 max pooling in one: the pooled output goes into
    /// <paramref name="pooledOutput"/> and, unless <paramref name="windowCodes"/> is empty (outside training nothing reads
    /// them), one code per window into it, which is all the backward pass needs (the ReLU's output is not stored).
    /// </summary>
    void ForwardFusedThrough(IFusablePooling pooling, ReadOnlySpan<float> input, Span<byte> windowCodes, Span<float> pooledOutput, int batchSize);

    /// <summary>
    /// The backward passes of <paramref name="pooling"/>, of the fused ReLU and of this layer in one: <paramref name="poolingGradient"/>
    /// is ∂C/∂(pooled output), <paramref name="activationOutput"/> the ReLU's output (the pooling's input); each sample's
    /// ∂C/∂(this layer's output) comes from <see cref="IFusablePooling.BackwardThroughRelu"/> and goes straight into
    /// this layer's backward.
    /// </summary>
    void BackwardFusedThrough(IFusablePooling pooling, ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput, ReadOnlySpan<float> poolingGradient,
        Span<float> inputGradient, int batchSize);

    /// <summary><see cref="BackwardFusedThrough"/> after <see cref="ForwardFusedThrough"/>: from the window codes it kept.</summary>
    void BackwardFusedThroughCodes(IFusablePooling pooling, ReadOnlySpan<float> input, ReadOnlySpan<byte> windowCodes, ReadOnlySpan<float> poolingGradient,
        Span<float> inputGradient, int batchSize);
}
