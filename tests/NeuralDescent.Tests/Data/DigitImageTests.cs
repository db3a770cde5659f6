using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Tests.Support;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Data;

/// <summary>Digits drawn anywhere on a large canvas, at several sizes and stroke widths, in either polarity.</summary>
[Collection(MnistCollection.Name)]
public class DigitImageTests(MnistFixture mnist)
{
    [Fact]
    public void Prepare_DigitsAnywhereOnALargeCanvas_AreReadAsTheNetworkReadsTheOriginals()
    {
        var network = new Network(seed: 1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        new Trainer(new CrossEntropyCost(), new Adam(0.002f), new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1 })
            .Fit(network, mnist.Data.Training.Slice(0, 20_000), cancellationToken: TestContext.Current.CancellationToken);

        (int Scale, int X, int Y, int Stroke, bool DarkOnLight)[] placements =
            [(8, 20, 30, 0, true), (5, 400, 250, 1, true), (12, 250, 40, 2, true), (3, 500, 10, 0, false), (10, 10, 100, 1, false)];
        int agreeing = 0, agreeingNaive = 0, total = 0;
        var original = new float[784];
        for (int digit = 0; digit < 20; digit++)
        {
            mnist.Data.Test.CopyInput(digit, original);
            int expected = network.Classify(original);
            foreach (var p in placements)
            {
                float[] canvas = Draw(original, 600, 400, p.Scale, p.X, p.Y, p.Stroke, p.DarkOnLight);
                if (network.Classify(DigitImage.Prepare(canvas, 600, 400)) == expected) agreeing++;
                if (network.Classify(NaiveResize(canvas, 600, 400)) == expected) agreeingNaive++;
                total++;
            }
        }
        ((double)agreeing / total).Should().BeGreaterThanOrEqualTo(0.9, $"{agreeing} of {total} prepared images agree (a plain resize: {agreeingNaive})");
        agreeingNaive.Should().BeLessThan(total / 2, "a plain resize of an off-centre digit is what the helper fixes");
    }

    [Fact]
    public void Prepare_AnMnistDigit_ComesBackAlmostUnchanged_AndBlankStaysBlank()
    {
        var original = new float[784];
        mnist.Data.Test.CopyInput(0, original);
        float[] prepared = DigitImage.Prepare(original, 28, 28);
        Correlation(original, prepared).Should().BeGreaterThan(0.99);
        DigitImage.Prepare(new float[50 * 40], 50, 40).Should().OnlyContain(v => v == 0f);
        DigitImage.Prepare(Enumerable.Repeat(1f, 50 * 40).ToArray(), 50, 40).Should().OnlyContain(v => v == 0f);
    }

    [Fact]
    public void Prepare_BadArguments_AreRefusedNamingTheProblem()
    {
        FluentActions.Invoking(() => DigitImage.Prepare(new float[10], 4, 3)).Should().Throw<ArgumentException>().WithMessage("A 4×3 image has 12 pixels, but 10 were given.*");
        FluentActions.Invoking(() => DigitImage.Prepare(new[] { 0f, float.NaN, 0f, 0f }, 2, 2)).Should().Throw<ArgumentException>().WithMessage("Pixel 1 (x 1, y 0) is NaN*");
        FluentActions.Invoking(() => DigitImage.Prepare(new float[4], 0, 4)).Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>The 28×28 digit enlarged <paramref name="scale"/> times, its strokes widened, at (x, y) on a canvas.</summary>
    private static float[] Draw(float[] digit, int width, int height, int scale, int x0, int y0, int stroke, bool darkOnLight)
    {
        var ink = new float[width * height];
        for (int y = 0; y < 28 * scale; y++)
            for (int x = 0; x < 28 * scale; x++)
            {
                float v = digit[(y / scale) * 28 + x / scale];
                if (v <= 0) continue;
                for (int dy = -stroke; dy <= stroke; dy++)
                    for (int dx = -stroke; dx <= stroke; dx++)
                    {
                        int cx = x0 + x + dx, cy = y0 + y + dy;
                        if (cx >= 0 && cx < width && cy >= 0 && cy < height) ink[cy * width + cx] = MathF.Max(ink[cy * width + cx], v);
                    }
            }
        if (darkOnLight) for (int i = 0; i < ink.Length; i++) ink[i] = 1f - ink[i];
        return ink;
    }

    /// <summary>What the sample did before: box-average the whole image to 28×28, invert when light.</summary>
    private static float[] NaiveResize(float[] image, int width, int height)
    {
        var pixels = new float[784];
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
            {
                int ya = y * height / 28, yb = (y + 1) * height / 28, xa = x * width / 28, xb = (x + 1) * width / 28;
                double sum = 0;
                for (int yy = ya; yy < yb; yy++) for (int xx = xa; xx < xb; xx++) sum += image[yy * width + xx];
                pixels[y * 28 + x] = (float)(sum / ((yb - ya) * (xb - xa)));
            }
        if (pixels.Average() > 0.5f) for (int i = 0; i < 784; i++) pixels[i] = 1f - pixels[i];
        return pixels;
    }

    private static double Correlation(float[] a, float[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.Sqrt(saa * sbb);
    }
}
