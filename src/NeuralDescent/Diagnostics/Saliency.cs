using NeuralDescent.Layers;

namespace NeuralDescent.Diagnostics;

/// <summary>Saliency maps (Simonyan et al., 2014): the gradient of one class score with respect to the input pixels.</summary>
/// <remarks>
/// The class score is the network's output for that class, or the logit (the input of the final softmax or sigmoid)
/// when the network ends in one, since the probability's gradient shrinks as the network grows confident. Large
/// magnitudes mark the pixels whose change would move the score most.
/// </remarks>
public static class Saliency
{
    /// <summary>∂score_c/∂x for one sample.</summary>
    /// <param name="network">The network; its parameter gradients are left zeroed.</param>
    /// <param name="input">The sample's <see cref="Network.InputSize"/> features.</param>
    /// <param name="classIndex">c, the class whose score to differentiate.</param>
    /// <returns><see cref="Network.InputSize"/> values, one per input feature.</returns>
    public static float[] Compute(Network network, ReadOnlySpan<float> input, int classIndex)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (input.Length != network.InputSize)
            throw new ArgumentException($"Expected an input of {network.InputSize} values but got {input.Length}.", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, network.OutputSize);
        using Network.TrainingScope scope = network.BeginTraining(); // writes the gradients: not alongside training
        Network.Workspace ws = network.WorkspaceFor(1);
        Span<float> inputs = ws.Inputs.AsSpan(0, input.Length);
        input.CopyTo(inputs);
        network.ForwardInto(ws, inputs, 1, training: false);
        int from = network.Layers.Count - 1;
        if (network.Layers[from] is ActivationLayer { Kind: ActivationKind.Softmax or ActivationKind.Sigmoid }) from--; // the score before the squashing output
        int width = network.WidthBefore(from + 1);
        Span<float> seed = ws.GradientA.AsSpan(0, width);
        seed.Clear();
        seed[classIndex] = 1f;
        foreach (Parameter p in network.Parameters) p.ZeroGradient();
        float[] result = from < 0 ? seed.ToArray() : network.Backpropagate(ws, inputs, from, 1, wantInputGradient: true).ToArray();
        foreach (Parameter p in network.Parameters) p.ZeroGradient();
        return result;
    }
}
