using System.CommandLine;
using MnistSample;

// The MNIST sample: train a network on the bundled digits and report what it learned.
//   dotnet run -c Release --project samples/NeuralDescent.Samples.Mnist                 (default: 784-128-10 ReLU, 5 epochs)
//   dotnet run -c Release --project samples/NeuralDescent.Samples.Mnist -- --preset nielsen   (the tutorial's 784-30-10 sigmoid network, 30 epochs)
RootCommand root = TrainCommand.Create();
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run with --help to see the options.");
    return ExitCodes.BadInput;
}
return await parsed.InvokeAsync();
