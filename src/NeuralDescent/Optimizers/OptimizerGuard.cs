namespace NeuralDescent.Optimizers;

internal static class OptimizerGuard
{
    public static float CheckLearningRate(float value, string paramName = "learningRate")
    {
        if (!float.IsFinite(value) || value <= 0f)
            throw new ArgumentOutOfRangeException(paramName, value, "The learning rate η must be positive and finite.");
        return value;
    }
}
