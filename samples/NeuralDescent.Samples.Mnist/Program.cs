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
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or NotSupportedException or OutOfMemoryException)
{
    // Bad input that got past the parser (a network too large for memory, an unreadable file): one line, no stack trace.
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.BadInput;
}
#pragma warning disable CA1031 // The last resort of a command-line program: report any other failure in one line too.
catch (Exception e)
#pragma warning restore CA1031
{
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    return ExitCodes.Failure;
}
