using System.CommandLine;
using System.Globalization;
using NeuralDescent;
using NeuralDescent.Data;
using NeuralDescent.Serialization;
using StbImageSharp;

namespace MnistSample;

/// <summary><c>predict</c>: classify digits with a saved model, from an IDX file or a PNG image.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A model saved with --save (safetensors).", Required = true };
        var image = new Option<string?>("--image") { Description = "A PNG (or JPEG/BMP) of one digit; resized to 28×28 and inverted if dark on light." };
        var idx = new Option<string?>("--idx") { Description = "An IDX image file (raw or .gz), e.g. data/mnist/t10k-images-idx3-ubyte.gz." };
        var index = new Option<int>("--index") { Description = "First image of the IDX file to classify.", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = "How many IDX images to classify.", DefaultValueFactory = _ => 10 };
        index.Require(v => v >= 0, v => $"--index must be ≥ 0, got {v}.");
        count.Require(v => v > 0, v => $"--count must be positive, got {v}.");
        var command = new Command("predict", "Classify digits with a saved model.") { model, image, idx, index, count };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(image) is null) == (r.GetValue(idx) is null)) r.AddError("Give exactly one of --image FILE or --idx FILE.");
        });
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(image), parse.GetValue(idx), parse.GetValue(index), parse.GetValue(count)));
        return command;
    }

    private static int Run(string modelPath, string? imagePath, string? idxPath, int index, int count)
    {
        Network network;
        try
        {
            network = ModelFile.Load(modelPath);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot load the model: {e.Message}");
            return ExitCodes.BadInput;
        }
        Console.WriteLine($"model: {network} ({modelPath})");
        try
        {
            if (imagePath is not null)
            {
                float[] pixels = LoadImage(imagePath, network.InputSize);
                Print(imagePath, network.Predict(pixels), label: null);
                return ExitCodes.Success;
            }
            IdxFile file = IdxReader.Read(idxPath!);
            if (file.DataType != IdxDataType.UnsignedByte || file.Dimensions.Count != 3 || file.Dimensions[1] * file.Dimensions[2] != network.InputSize)
                throw new InvalidDataException($"{idxPath}: expected unsigned-byte images of {network.InputSize} pixels, found {file.DataType} {string.Join('×', file.Dimensions)}.");
            int images = file.Dimensions[0];
            if (index >= images) throw new InvalidDataException($"{idxPath}: --index {index} is past its {images} images.");
            var x = new float[network.InputSize];
            for (int i = index; i < Math.Min(images, index + count); i++)
            {
                for (int p = 0; p < x.Length; p++) x[p] = file.Data[(long)i * x.Length + p] / 255f;
                Print($"image {i}", network.Predict(x), label: null);
            }
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
    }

    private static void Print(string what, float[] output, int? label)
    {
        int[] ranked = Enumerable.Range(0, output.Length).OrderByDescending(i => output[i]).ToArray();
        string top = string.Join(", ", ranked.Take(3).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i} ({output[i]:P1})")));
        Console.WriteLine($"{what}: {ranked[0]}   top 3: {top}{(label is int l ? $"   label {l}" : "")}");
    }

    /// <summary>Grey levels scaled to [0, 1], box-averaged to 28×28, inverted when the background is light (MNIST digits are light on dark).</summary>
    private static float[] LoadImage(string path, int inputSize)
    {
        if (inputSize != 784) throw new InvalidDataException($"The model takes {inputSize} inputs, not a 28×28 image.");
        ImageResult image;
        using (FileStream stream = File.OpenRead(path))
        {
            try
            {
                image = ImageResult.FromStream(stream, ColorComponents.Grey);
            }
            catch (Exception e) when (e is not IOException)
            {
                throw new InvalidDataException($"{path}: not a readable PNG, JPEG or BMP image ({e.Message}).", e);
            }
        }
        var pixels = new float[784];
        for (int y = 0; y < 28; y++)
        {
            int y0 = y * image.Height / 28, y1 = Math.Max(y0 + 1, (y + 1) * image.Height / 28);
            for (int x = 0; x < 28; x++)
            {
                int x0 = x * image.Width / 28, x1 = Math.Max(x0 + 1, (x + 1) * image.Width / 28);
                double sum = 0;
                for (int yy = y0; yy < y1; yy++)
                    for (int xx = x0; xx < x1; xx++) sum += image.Data[yy * image.Width + xx];
                pixels[y * 28 + x] = (float)(sum / ((y1 - y0) * (x1 - x0)) / 255.0);
            }
        }
        if (pixels.Average() > 0.5f)
            for (int i = 0; i < pixels.Length; i++) pixels[i] = 1f - pixels[i];
        return pixels;
    }
}
