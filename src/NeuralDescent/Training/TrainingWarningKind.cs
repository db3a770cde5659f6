namespace NeuralDescent.Training;

/// <summary>What a <see cref="TrainingWarning"/> reports.</summary>
public enum TrainingWarningKind
{
    /// <summary>A layer's epoch-mean gradient RMS fell below <see cref="TrainerOptions.VanishingGradientRms"/>: it barely learns.</summary>
    VanishingGradient,

    /// <summary>A layer's epoch-mean gradient RMS rose above <see cref="TrainerOptions.ExplodingGradientRms"/>: its steps are too large.</summary>
    ExplodingGradient,
}
