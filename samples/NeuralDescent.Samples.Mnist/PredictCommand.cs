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
        var image = new Option<string?>("--image") { Description = "A PNG (or JPEG/BMP) of one digit, any size, either polarity: cropped to the ink, scaled into 20×20 and centred by its centre of mass, as MNIST's digits were." };
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

    /// <summary>The image's grey levels, prepared like an MNIST digit by <see cref="DigitImage.Prepare"/>.</summary>
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
        // Cropped to the ink, scaled into a 20×20 box and centred by its centre of mass, as MNIST's digits were.
        float[] grey = image.Data.Select(b => b / 255f).ToArray();
        return DigitImage.Prepare(grey, image.Width, image.Height);
    }
}
