using System.CommandLine;
using System.Globalization;
using CsvHelper;
using NeuralDescent;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;

namespace MnistSample;

/// <summary>
/// Trains on a CSV file of your own: every numeric column but the target is a feature; the target is a number
/// (regression: MAE, RMSE, R²) or, with --classify, a class name (accuracy and a confusion matrix).
/// </summary>
internal static class CsvCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A CSV file with a header row." };
        var target = new Option<string>("--target", "-t") { Description = "The column to predict.", Required = true };
        var classify = new Option<bool>("--classify") { Description = "The target holds class names (classification) rather than numbers (regression)." };
        var hidden = new Option<int>("--hidden") { Description = "Units in the hidden layer.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Number of epochs.", DefaultValueFactory = _ => 50 };
        var testFraction = new Option<double>("--test-fraction") { Description = "Share of the rows held out for testing, in (0, 1).", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed", "-s") { Description = "Seed for the split, initialization and shuffling.", DefaultValueFactory = _ => 1 };
        hidden.Require(v => v > 0, v => $"--hidden must be positive; got {v}.");
        epochs.Require(v => v > 0, v => $"--epochs must be positive; got {v}.");
        testFraction.Require(v => v > 0 && v < 1, v => $"--test-fraction must be in (0, 1); got {v}.");
        var command = new Command("csv", "Train on a CSV file of your own: regression, or classification with --classify.") { file, target, classify, hidden, epochs, testFraction, seed };
        command.SetAction(result =>
        {
            return Run(result.GetValue(file)!, result.GetValue(target)!, result.GetValue(classify), result.GetValue(hidden), result.GetValue(epochs), result.GetValue(testFraction), result.GetValue(seed));
        });
        return command;
    }

    private static int Run(string path, string targetColumn, bool classify, int hidden, int epochs, double testFraction, int seed)
    {
        (string[] features, List<float[]> rows, List<string> targets) = Read(path, targetColumn, classify);
        if (rows.Count < 10) throw new InvalidDataException($"{path}: {rows.Count} data rows; at least 10 are needed to train and test.");
        string[] classes = classify ? [.. targets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)] : [];
        if (classify && classes.Length < 2) throw new InvalidDataException($"{path}: column '{targetColumn}' holds a single class, '{classes[0]}'.");

        // A seeded shuffle, then the last share of the rows is the test set.
        int[] order = [.. Enumerable.Range(0, rows.Count)];
        new Random(seed).Shuffle(order);
        int testCount = Math.Max(1, (int)Math.Round(rows.Count * testFraction)), trainCount = rows.Count - testCount;
        Dataset Make(IEnumerable<int> indices)
        {
            int[] picked = [.. indices];
            float[] inputs = [.. picked.SelectMany(i => rows[i])];
            return classify
                ? Dataset.FromLabels(inputs, features.Length, [.. picked.Select(i => Array.IndexOf(classes, targets[i]))], classes.Length)
                : Dataset.FromTargets(inputs, features.Length, [.. picked.Select(i => float.Parse(targets[i], CultureInfo.InvariantCulture))], 1);
        }
        Dataset training = Make(order.Take(trainCount)), test = Make(order.Skip(trainCount));

        int outputs = classify ? classes.Length : 1;
        ILayer[] head = classify ? [new Dense(hidden, outputs), new Softmax()] : [new Dense(hidden, outputs)];
        var network = new Network(seed, [Standardize.Fit(training), new Dense(features.Length, hidden), new ReLU(), .. head]);
        ICostFunction cost = classify ? new CrossEntropyCost() : new QuadraticCost();
        new Trainer(cost, new Adam(0.01f), new TrainerOptions { Epochs = epochs, BatchSize = 32, Seed = seed }).Fit(network, training);

        Console.WriteLine($"{path}: {rows.Count} rows ({trainCount} training, {testCount} test), {features.Length} features ({string.Join(", ", features)}), target '{targetColumn}'.");
        if (classify)
        {
            EvaluationResult r = Evaluator.Evaluate(network, test, cost);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Test accuracy: {r.Accuracy:P2} ({r.Correct} of {r.Count}) over classes {string.Join(", ", classes)}."));
        }
        else
        {
            RegressionResult r = Evaluator.EvaluateRegression(network, test);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Test MAE {r.MeanAbsoluteError:G4}, RMSE {r.RootMeanSquaredError:G4}, R² {r.RSquared:F4}."));
        }
        return 0;
    }

    /// <summary>The header's feature columns, each row's features, and each row's target text; errors name the line and column.</summary>
    private static (string[] Features, List<float[]> Rows, List<string> Targets) Read(string path, string targetColumn, bool classify)
    {
        var options = new CsvReaderOptions { HasHeader = true, TrimWhitespace = true, TrackLineNumbers = true, SkipEmptyLines = true };
        using CsvReader csv = CsvReader.FromFile(path, options, FileOptions.SequentialScan);
        csv.ReadHeader();
        string[] header = [.. csv.Headers];
        if (header.Length == 0) throw new InvalidDataException($"{path}: no header row.");
        int targetIndex = Array.IndexOf(header, targetColumn);
        if (targetIndex < 0) throw new InvalidDataException($"{path}: no column '{targetColumn}' (the columns are {string.Join(", ", header)}).");
        string[] features = [.. header.Where((_, i) => i != targetIndex)];
        if (features.Length == 0) throw new InvalidDataException($"{path}: no feature columns besides '{targetColumn}'.");
        var rows = new List<float[]>();
        var targets = new List<string>();
        while (csv.Read())
        {
            long line = csv.LineNumber;
            if (csv.FieldCount != header.Length)
                throw new InvalidDataException($"{path}, line {line}: {csv.FieldCount} fields, but the header has {header.Length}.");
            var values = new float[features.Length];
            for (int i = 0, f = 0; i < header.Length; i++)
            {
                string text = csv.GetString(i);
                if (i == targetIndex)
                {
                    if (!classify && !(float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float t) && float.IsFinite(t)))
                        throw new InvalidDataException($"{path}, line {line}, column '{header[i]}': '{text}' is not a number (use --classify for class names).");
                    targets.Add(text);
                    continue;
                }
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[f]) || !float.IsFinite(values[f]))
                    throw new InvalidDataException($"{path}, line {line}, column '{header[i]}': '{text}' is not a finite number.");
                f++;
            }
            rows.Add(values);
        }
        return (features, rows, targets);
    }
}
