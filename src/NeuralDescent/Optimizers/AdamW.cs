namespace NeuralDescent.Optimizers;

/// <summary>AdamW (Loshchilov and Hutter, 2019): Adam with weight decay decoupled from the gradient.</summary>
/// <remarks>
/// <para>Update at step t: <c>θ ← θ·(1 − ηλ)</c>, then Adam on the raw gradient:
/// <c>m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η·(m/(1 − β₁ᵗ))/(√(v/(1 − β₂ᵗ)) + ε)</c>.</para>
/// <para>Defaults follow PyTorch's <c>AdamW</c>: η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 0.01.</para>
/// </remarks>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW.</summary>
    /// <param name="learningRate">η &gt; 0; default 1e-3.</param>
    /// <param name="beta1">β₁ in [0, 1); default 0.9.</param>
    /// <param name="beta2">β₂ in [0, 1); default 0.999.</param>
    /// <param name="epsilon">ε &gt; 0; default 1e-8.</param>
    /// <param name="weightDecay">λ ≥ 0, decoupled; default 0.01.</param>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}
