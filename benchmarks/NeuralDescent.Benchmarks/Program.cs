using BenchmarkDotNet.Running;

// Run all suites:      dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*'
// Run one suite:       dotnet run -c Release --project benchmarks/NeuralDescent.Benchmarks -- --filter '*Gemm*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
