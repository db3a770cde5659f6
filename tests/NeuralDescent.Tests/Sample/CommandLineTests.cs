using System.Diagnostics;

namespace NeuralDescent.Tests.Sample;

/// <summary>The sample's real command line, run as a process with a bad value for each option: one error line, exit code 2.</summary>
public class CommandLineTests
{
    private static string SampleDll()
    {
        // tests/NeuralDescent.Tests/bin/{Configuration}/net10.0/ → samples/NeuralDescent.Samples.Mnist/bin/{Configuration}/net10.0/
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = bin.Name, configuration = bin.Parent!.Name;
        string root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "samples", "NeuralDescent.Samples.Mnist", "bin", configuration, framework, "NeuralDescent.Samples.Mnist.dll");
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(SampleDll());
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{string.Join(' ', args)}' did not finish within 60 s.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    public static TheoryData<string> BadCommandLines() => new()
    {
        "--preset nope", "--layers 0", "--layers a,b", "--layers 60000,60000", "--activation swish", "--cost hinge",
        "--init zeros", "--learning-rate abc", "--learning-rate -1", "--learning-rate NaN", "--batch-size 1.5",
        "--batch-size 0", "--epochs banana", "--epochs 99999999999", "--epochs 0", "--seed x", "--optimizer lbfgs",
        "--weight-decay -1", "--weight-decay abc", "--dropout 1", "--dropout abc", "--shift 99", "--shift abc",
        "--schedule linear", "--warmup -1", "--warmup abc", "--standardize maybe", "--data /nonexistent/mnist",
        "predict --model /nonexistent.safetensors --idx data/mnist/t10k-images-idx3-ubyte.gz",
        "predict --model m --count 99999999999 --idx x", "predict --model m --count 0 --idx x", "predict --model m --index -1 --idx x",
        "predict --model m", "predict --idx x", "bench --workload W9", "bench --epochs 0", "bench --threads 0", "bench --threads 65",
        "bench --epochs banana", "explain nothing", "--no-such-option",
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public void BadValue_PrintsAnErrorWithoutAStackTrace_AndExitsWith2(string commandLine)
    {
        (int exitCode, _, string error) = Run(commandLine.Split(' '));
        exitCode.Should().Be(2, $"'{commandLine}' is bad input (stderr: {error})");
        error.Should().StartWith("error: ");
        error.Should().NotContain("   at ", "no stack trace is printed");
        error.Should().NotContain("Unhandled exception");
    }

    [Fact]
    public void Csv_TrainsARegressionAndAClassifier_AndNamesTheLineAndColumnOfABadCell()
    {
        string dir = Directory.CreateTempSubdirectory("nd-csv-").FullName;
        try
        {
            var random = new Random(1);
            var houses = new System.Text.StringBuilder("rooms,area,age,price\n");
            for (int i = 0; i < 600; i++)
            {
                int rooms = random.Next(1, 7);
                double area = 30 + 170 * random.NextDouble(), age = 60 * random.NextDouble();
                houses.Append(System.Globalization.CultureInfo.InvariantCulture, $"{rooms},{area:F1},{age:F1},{50 + 1.5 * area + 10 * rooms - 0.8 * age:F2}\n");
            }
            File.WriteAllText(Path.Combine(dir, "houses.csv"), houses.ToString());
            var species = new System.Text.StringBuilder("a, b, species\n");
            string[] names = ["setosa", "versicolor", "virginica"];
            for (int i = 0; i < 300; i++)
            {
                int k = i % 3;
                species.Append(System.Globalization.CultureInfo.InvariantCulture, $"{2 * k + 0.4 * (random.NextDouble() - 0.5):F3}, {-k + 0.4 * (random.NextDouble() - 0.5):F3}, {names[k]}\n");
            }
            File.WriteAllText(Path.Combine(dir, "species.csv"), species.ToString());
            File.WriteAllText(Path.Combine(dir, "bad.csv"), "x,y\n1,2\n3,abc\n");

            (int code, string output, string error) = Run("csv", Path.Combine(dir, "houses.csv"), "--target", "price");
            code.Should().Be(0, error);
            double r2 = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"R² (-?[0-9]+\.[0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            r2.Should().BeGreaterThan(0.95, output);

            (code, output, error) = Run("csv", Path.Combine(dir, "species.csv"), "-t", "species", "--classify");
            code.Should().Be(0, error);
            output.Should().Contain("over classes setosa, versicolor, virginica").And.MatchRegex(@"Test accuracy: (9\d|100)\.\d\d %");

            (code, _, error) = Run("csv", Path.Combine(dir, "bad.csv"), "-t", "y");
            code.Should().Be(2);
            error.Trim().Should().Be($"error: {Path.Combine(dir, "bad.csv")}, line 3, column 'y': 'abc' is not a number (use --classify for class names).");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
