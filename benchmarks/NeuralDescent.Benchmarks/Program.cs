using BenchmarkDotNet.Running;
using NeuralDescent.Benchmarks.Training;

// Run all suites:      dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*'
// Run one suite:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*Gemm*'
// Phase profile:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile W1 2
if (args.Length >= 2 && args[0] == "profile")
{
    StepProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
