using NeuralDescent.Data;

namespace NeuralDescent.Tests.Support;

/// <summary>Locates the repository's bundled MNIST and loads it once for all tests that need it.</summary>
public sealed class MnistFixture
{
    private readonly Lazy<DataSplit> _data = new(() => Mnist.Load(DataDirectory));

    public static string DataDirectory => FindDataDirectory();

    public DataSplit Data => _data.Value;

    public static string FindDataDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "data", "mnist");
            if (File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte.gz"))) return candidate;
        }
        throw new DirectoryNotFoundException("data/mnist not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class MnistCollection : ICollectionFixture<MnistFixture>
{
    public const string Name = "MNIST";
}

/// <summary>Small seeded random inputs for tests.</summary>
public static class Rand
{
    public static float[] Floats(int count, ulong seed, float low = -1f, float high = 1f)
    {
        var g = new NeuralDescent.Randomness.RandomGenerator(seed);
        var result = new float[count];
        for (int i = 0; i < count; i++) result[i] = low + (high - low) * g.NextSingle();
        return result;
    }

    /// <summary>Values in ±[0.1, 1]: kept away from 0 so kinks (ReLU) are not crossed by finite-difference steps.</summary>
    public static float[] AwayFromZero(int count, ulong seed)
    {
        var g = new NeuralDescent.Randomness.RandomGenerator(seed);
        var result = new float[count];
        for (int i = 0; i < count; i++)
        {
            float magnitude = 0.1f + 0.9f * g.NextSingle();
            result[i] = g.NextSingle() < 0.5f ? -magnitude : magnitude;
        }
        return result;
    }

    /// <summary>
    /// A seeded shuffle of the values (i − (n − 1)/2)·spacing: all distinct and at least spacing/2 from 0, so neither a
    /// ReLU kink nor a max-pooling tie lies within a finite-difference step smaller than spacing/2.
    /// </summary>
    public static float[] Distinct(int count, ulong seed, float spacing)
    {
        int[] order = Enumerable.Range(0, count).ToArray();
        new NeuralDescent.Randomness.RandomGenerator(seed).Shuffle(order);
        // An odd count would put one value at exactly 0; shift them all by half a step.
        float offset = count % 2 == 1 ? spacing / 2 : 0f;
        return order.Select(i => (i - (count - 1) / 2f) * spacing + offset).ToArray();
    }
}
