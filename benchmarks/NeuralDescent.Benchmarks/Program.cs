using BenchmarkDotNet.Running;
using NeuralDescent.Benchmarks.Training;

// Run all suites:      dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*'
// Run one suite:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*Gemm*'
// Phase profile:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile W1 2 [steps]
// Fit's loop by phase: dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- fit-phases W1 2
// Per layer:          dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- profile-layers W4 2
// Shared model:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- concurrent-predict W1 3
// Pool vs Parallel.For: dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- pool-vs-parallel-for 3
// Two cores' GEMM loss: dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- twin-gemm 128 512 512
// Host stalls:         dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- host-gaps 2 5
// One GEMM:            dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- gemm nt 10000 128 784 2   (layout nn, nt or tn; m n k threads)
if (args.Length >= 4 && args[0] == "twin-gemm")
{
    static int Size(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
    NeuralDescent.Benchmarks.Probes.TwinGemmProbe.Run(Size(args[1]), Size(args[2]), Size(args[3]));
    return;
}
if (args.Length >= 1 && args[0] == "host-gaps")
{
    NeuralDescent.Benchmarks.Probes.HostGapsProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount,
        args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5);
    return;
}
if (args.Length >= 1 && args[0] == "pool-vs-parallel-for")
{
    NeuralDescent.Benchmarks.Probes.PoolComparisonProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}
if (args.Length >= 2 && args[0] == "concurrent-predict")
{
    NeuralDescent.Benchmarks.Probes.ConcurrentPredictProbe.Run(args[1], args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}
if (args.Length >= 2 && args[0] == "profile-layers")
{
    NeuralDescent.Benchmarks.Probes.LayerProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
if (args.Length >= 2 && args[0] == "fit-phases")
{
    FitPhasesProbe.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
if (args.Length >= 3 && args[0] == "profile-fit")
{
    FitProfile.Run(args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
if (args.Length >= 6 && args[0] == "gemm")
{
    static int Arg(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
    GemmProfile.Run(args[1], Arg(args[2]), Arg(args[3]), Arg(args[4]), Arg(args[5]));
    return;
}
if (args.Length >= 1 && args[0] == "fit-overhead")
{
    FitOverheadProfile.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2);
    return;
}
if (args.Length >= 2 && args[0] == "handoff")
{
    HandOffProfile.Run(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
    return;
}
if (args.Length >= 2 && args[0] == "profile" && args[1] == "I2")
{
    PredictBatchProfile.Run(args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
if (args.Length >= 2 && args[0] == "profile" && args[1] == "I1")
{
    PredictProfile.Run(args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount);
    return;
}
if (args.Length >= 2 && args[0] == "profile")
{
    StepProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount,
        args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 3000);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
