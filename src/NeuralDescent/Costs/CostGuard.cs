using System.Runtime.CompilerServices;

namespace NeuralDescent.Costs;

internal static class CostGuard
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Check(ICostFunction cost, int outputLength, int targetLength, int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"{cost.Name}: batchSize must be positive.");
        if (outputLength != targetLength)
            throw new ArgumentException($"{cost.Name}: output has {outputLength} values but target has {targetLength}.");
        if (outputLength % batchSize != 0)
            throw new ArgumentException($"{cost.Name}: {outputLength} outputs do not divide into {batchSize} samples.");
        return outputLength / batchSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CheckGradient(ICostFunction cost, int outputLength, int gradientLength)
    {
        if (gradientLength != outputLength)
            throw new ArgumentException($"{cost.Name}: gradient has {gradientLength} values but output has {outputLength}.");
    }
}
