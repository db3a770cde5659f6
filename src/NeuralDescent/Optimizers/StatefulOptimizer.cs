using NeuralDescent.Layers;

namespace NeuralDescent.Optimizers;

/// <summary>
/// Base of the optimizers that keep state per parameter (momentum buffers, squared-gradient averages, moments).
/// </summary>
/// <remarks>
/// State is created lazily on a parameter's first step as zero-filled buffers of the parameter's length, keyed by the
/// <see cref="Parameter"/> object, and can be read back with <see cref="GetState"/> (for inspection and checkpoints).
/// <see cref="StepCount"/> is t, the number of completed <see cref="Step"/> calls; it drives bias corrections.
/// </remarks>
public abstract class StatefulOptimizer : IOptimizer
{
    private readonly Dictionary<Parameter, float[][]> _state = new(ReferenceEqualityComparer.Instance);
    private float _learningRate;

    /// <summary>Initializes the learning rate.</summary>
    /// <param name="learningRate">η &gt; 0.</param>
    protected StatefulOptimizer(float learningRate)
    {
        LearningRate = learningRate;
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerGuard.CheckLearningRate(value);
    }

    /// <summary>t, the number of steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Names of the state buffers each parameter gets, in order (e.g. <c>exp_avg</c>, <c>exp_avg_sq</c>).</summary>
    public abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>The state buffers of <paramref name="parameter"/> (in <see cref="StateNames"/> order), or an empty list before its first step.</summary>
    /// <param name="parameter">A parameter this optimizer has stepped.</param>
    /// <returns>The live buffers (not copies).</returns>
    public IReadOnlyList<float[]> GetState(Parameter parameter) => _state.TryGetValue(parameter, out float[][]? s) ? s : [];

    /// <inheritdoc />
    public void Step(IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        StepCount++;
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            if (!_state.TryGetValue(p, out float[][]? state))
            {
                state = new float[StateNames.Count][];
                for (int s = 0; s < state.Length; s++) state[s] = new float[p.Length];
                _state.Add(p, state);
            }
            Update(p.Values, p.Gradient, state, StepCount);
        }
    }

    /// <summary>Applies the update rule to one parameter.</summary>
    /// <param name="values">θ, updated in place.</param>
    /// <param name="gradient">g = ∂C/∂θ (read-only in spirit; rules must not rely on changing it).</param>
    /// <param name="state">This parameter's state buffers.</param>
    /// <param name="step">t, 1 on the first step.</param>
    protected abstract void Update(Span<float> values, Span<float> gradient, float[][] state, long step);

    /// <summary>Checks a hyperparameter lies in [min, max) (or [min, max] when <paramref name="maxInclusive"/>).</summary>
    /// <param name="value">The value.</param>
    /// <param name="min">Lowest allowed value.</param>
    /// <param name="max">Upper bound.</param>
    /// <param name="name">Parameter name for the exception.</param>
    /// <param name="maxInclusive">Whether <paramref name="max"/> itself is allowed.</param>
    /// <returns>The value.</returns>
    protected static float CheckRange(float value, float min, float max, string name, bool maxInclusive = false)
    {
        bool ok = float.IsFinite(value) && value >= min && (maxInclusive ? value <= max : value < max);
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}{(maxInclusive ? "]" : ")")}.");
        return value;
    }
}
