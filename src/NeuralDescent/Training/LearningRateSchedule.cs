namespace NeuralDescent.Training;

/// <summary>
/// A learning-rate schedule: the trainer sets η = η₀ · f(t) before every step, where η₀ is the optimizer's learning rate
/// when training starts and t counts steps from 0. Works with any optimizer; schedules compose with
/// <see cref="WithLinearWarmup"/> and <see cref="Times"/>.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>f(t) = 1: a constant learning rate.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>The factor f(t) ≥ 0 for step <paramref name="step"/>.</summary>
    /// <param name="step">t, steps taken before this one (0 for the first).</param>
    /// <param name="stepsPerEpoch">Steps in one epoch, so rules can be stated in epochs: e = t / stepsPerEpoch.</param>
    /// <returns>The multiplier of η₀.</returns>
    public abstract double Factor(long step, int stepsPerEpoch);

    /// <summary>Step decay: f = γ^⌊e / every⌋, e.g. halve every 10 epochs (PyTorch's <c>StepLR</c>).</summary>
    /// <param name="everyEpochs">Epochs between decays; positive.</param>
    /// <param name="gamma">γ in (0, 1].</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule StepDecay(int everyEpochs, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(everyEpochs);
        CheckGamma(gamma);
        return new StepSchedule(everyEpochs, gamma);
    }

    /// <summary>Exponential decay: f = γ^e with e in (fractional) epochs (PyTorch's <c>ExponentialLR</c>, applied smoothly).</summary>
    /// <param name="gammaPerEpoch">γ in (0, 1].</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule Exponential(double gammaPerEpoch)
    {
        CheckGamma(gammaPerEpoch);
        return new ExponentialSchedule(gammaPerEpoch);
    }

    /// <summary>Cosine annealing (Loshchilov and Hutter, 2017): f = m + (1 − m)·½(1 + cos(π·min(e, E)/E)), from 1 down to m over E epochs.</summary>
    /// <param name="totalEpochs">E, the epochs over which to anneal; positive.</param>
    /// <param name="minFactor">m, the final factor in [0, 1]; default 0.</param>
    /// <returns>The schedule.</returns>
    public static LearningRateSchedule Cosine(double totalEpochs, double minFactor = 0)
    {
        if (!(totalEpochs > 0) || !double.IsFinite(totalEpochs)) throw new ArgumentOutOfRangeException(nameof(totalEpochs), totalEpochs, "totalEpochs must be positive.");
        if (!(minFactor >= 0 && minFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(minFactor), minFactor, "minFactor must be in [0, 1].");
        return new CosineSchedule(totalEpochs, minFactor);
    }

    /// <summary>
    /// Linear warm-up before this schedule: f = (t + 1)/W for the first W = warmupEpochs·stepsPerEpoch steps, then this
    /// schedule started afresh, f(t − W).
    /// </summary>
    /// <param name="warmupEpochs">Warm-up length in epochs; positive.</param>
    /// <returns>The composed schedule.</returns>
    public LearningRateSchedule WithLinearWarmup(double warmupEpochs)
    {
        if (!(warmupEpochs > 0) || !double.IsFinite(warmupEpochs)) throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, "warmupEpochs must be positive.");
        return new WarmupSchedule(warmupEpochs, this);
    }

    /// <summary>The product of two schedules, f(t)·g(t).</summary>
    /// <param name="other">g.</param>
    /// <returns>The composed schedule.</returns>
    public LearningRateSchedule Times(LearningRateSchedule other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new ProductSchedule(this, other);
    }

    private static void CheckGamma(double gamma)
    {
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be in (0, 1].");
    }

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch) => 1;
        public override string ToString() => "constant";
    }

    private sealed class StepSchedule(int every, double gamma) : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch) => Math.Pow(gamma, Math.Floor((double)step / stepsPerEpoch / every));
        public override string ToString() => $"step(every {every} epochs, γ={gamma})";
    }

    private sealed class ExponentialSchedule(double gamma) : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch) => Math.Pow(gamma, (double)step / stepsPerEpoch);
        public override string ToString() => $"exponential(γ={gamma}/epoch)";
    }

    private sealed class CosineSchedule(double total, double min) : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch)
        {
            double e = Math.Min((double)step / stepsPerEpoch, total);
            return min + (1 - min) * 0.5 * (1 + Math.Cos(Math.PI * e / total));
        }

        public override string ToString() => $"cosine({total} epochs, min {min})";
    }

    private sealed class WarmupSchedule(double warmupEpochs, LearningRateSchedule after) : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch)
        {
            long warmupSteps = Math.Max(1, (long)Math.Round(warmupEpochs * stepsPerEpoch));
            return step < warmupSteps ? (step + 1.0) / warmupSteps : after.Factor(step - warmupSteps, stepsPerEpoch);
        }

        public override string ToString() => $"linear warm-up {warmupEpochs} epochs, then {after}";
    }

    private sealed class ProductSchedule(LearningRateSchedule a, LearningRateSchedule b) : LearningRateSchedule
    {
        public override double Factor(long step, int stepsPerEpoch) => a.Factor(step, stepsPerEpoch) * b.Factor(step, stepsPerEpoch);
        public override string ToString() => $"{a} × {b}";
    }
}
