namespace NeuralDescent.Layers;

/// <summary>
/// A parameter-free layer whose backward pass goes sample by sample and can take a ReLU's backward with it, so that
/// a layer fused with the ReLU before it (<see cref="IFusesBackwardThrough"/>) computes each sample's gradient inside
/// its own backward pass, while the sample is in cache, instead of two passes over the whole batch (pooling after a
/// convolution and its ReLU).
/// </summary>
internal interface IBackwardThroughRelu : ILayer
{
    /// <summary>Floats of one sample entering (<c>Input</c>) and leaving (<c>Output</c>) this layer.</summary>
    (int Input, int Output) SampleSizes { get; }

    /// <summary>
    /// For one sample: this layer's backward from <paramref name="outputGradient"/>, then ReLU's (the gradient times 0
    /// where <paramref name="input"/>, the ReLU's output, is not positive), written into
    /// <paramref name="reluInputGradient"/> with the same arithmetic as the two layers' own backward passes, so the
    /// result is bitwise theirs. Called from several kernel threads at once.
    /// </summary>
    void BackwardThroughRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> reluInputGradient);
}

/// <summary>A layer fused with the ReLU after it that can also take in the backward pass of the layer after that ReLU.</summary>
internal interface IFusesBackwardThrough : IFusesActivation
{
    /// <summary>Whether this layer's fused <paramref name="activation"/> is a ReLU and <paramref name="after"/> can be taken in.</summary>
    bool CanFuseBackwardThrough(ILayer activation, ILayer after);

    /// <summary>
    /// The backward passes of <paramref name="after"/>, of the fused ReLU and of this layer in one: <paramref name="afterGradient"/>
    /// is ∂C/∂(output of <paramref name="after"/>), <paramref name="activationOutput"/> the ReLU's output (the input of
    /// <paramref name="after"/>); each sample's ∂C/∂(this layer's output) comes from
    /// <see cref="IBackwardThroughRelu.BackwardThroughRelu"/> and goes straight into this layer's backward.
    /// </summary>
    void BackwardFusedThrough(IBackwardThroughRelu after, ReadOnlySpan<float> input, ReadOnlySpan<float> activationOutput, ReadOnlySpan<float> afterGradient,
        Span<float> inputGradient, int batchSize);
}
