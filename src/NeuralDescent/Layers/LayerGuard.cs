using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;

namespace NeuralDescent.Layers;

/// <summary>Argument checks shared by the layers, with messages that name the layer and the sizes.</summary>
internal static class LayerGuard
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CheckBatch(ILayer layer, int inputLength, int inputWidth, int outputLength, int outputWidth, int batchSize)
    {
        if (batchSize <= 0) Throw($"{layer.Name}: batchSize must be positive but was {batchSize}.");
        if (inputLength != (long)batchSize * inputWidth)
            Throw($"{layer.Name}: expected input of {batchSize}×{inputWidth} = {(long)batchSize * inputWidth} values but got {inputLength}.");
        if (outputLength != (long)batchSize * outputWidth)
            Throw($"{layer.Name}: expected output of {batchSize}×{outputWidth} = {(long)batchSize * outputWidth} values but got {outputLength}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int CheckElementwise(ILayer layer, int inputLength, int outputLength, int batchSize)
    {
        if (batchSize <= 0) Throw($"{layer.Name}: batchSize must be positive but was {batchSize}.");
        if (inputLength != outputLength)
            Throw($"{layer.Name}: input has {inputLength} values but output has {outputLength}.");
        if (inputLength % batchSize != 0)
            Throw($"{layer.Name}: {inputLength} values do not divide into {batchSize} samples.");
        return inputLength / batchSize;
    }

    [DoesNotReturn]
    private static void Throw(string message) => throw new ArgumentException(message);
}
