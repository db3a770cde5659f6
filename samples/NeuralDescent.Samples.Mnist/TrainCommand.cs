using NeuralDescent;
using System.CommandLine;
using System.Globalization;
using NeuralDescent.Data;
using NeuralDescent.Training;
using Spectre.Console;
using NeuralDescent.Metrics;

namespace MnistSample;

/// <summary>The root command: train on MNIST, then print the per-epoch table, the test accuracy and the confusion matrix.</summary>
internal static class TrainCommand
{
    public static RootCommand Create()
    {
        var preset = new Option<string>("--preset", "-p") { Description = "Starting recipe: 'default' (784-128-10 ReLU + softmax, 5 epochs), 'nielsen' (the tutorial's 784-30-10 sigmoid network, 30 epochs), 'fast' (≥ 98.5% in under 3 minutes) or 'best' (≥ 99.0% in under 15 minutes) with perceptrons; 'cnn' for a convolutional network.", DefaultValueFactory = _ => "default" };
        preset.AcceptOnlyFromAmong([.. Recipe.Presets.Keys]);
        var layers = new Option<string?>("--layers", "-l") { Description = "Hidden layer sizes, comma-separated, e.g. 128 or 256,128." };
        var activation = new Option<string?>("--activation", "-a") { Description = "Hidden activation: " + string.Join(", ", Recipe.Activations) + "." };
        activation.AcceptOnlyFromAmong(Recipe.Activations);
        var cost = new Option<string?>("--cost", "-c") { Description = "Cost: crossentropy (softmax output), quadratic or binarycrossentropy (sigmoid output)." };
        cost.AcceptOnlyFromAmong(Recipe.Costs);
        var init = new Option<string?>("--init") { Description = "Weight initializer: " + string.Join(", ", Recipe.Inits) + " ('default' picks He before ReLU, Glorot otherwise)." };
        init.AcceptOnlyFromAmong(Recipe.Inits);
        var learningRate = new Option<float?>("--learning-rate", "--lr") { Description = "SGD learning rate η (> 0)." };
        var batchSize = new Option<int?>("--batch-size", "-b") { Description = "Mini-batch size (> 0)." };
        var epochs = new Option<int?>("--epochs", "-e") { Description = "Number of epochs (> 0)." };
        var seed = new Option<int?>("--seed", "-s") { Description = "Seed for initialization and shuffling." };
        var optimizer = new Option<string?>("--optimizer", "-o") { Description = "Optimizer: " + string.Join(", ", Recipe.Optimizers) + "." };
        optimizer.AcceptOnlyFromAmong(Recipe.Optimizers);
        var weightDecay = new Option<float?>("--weight-decay") { Description = "Weight decay λ ≥ 0 (L2 for all but adamw, decoupled for adamw)." };
        var dropout = new Option<float?>("--dropout") { Description = "Dropout rate in [0, 1) after each hidden activation." };
        var shift = new Option<int?>("--shift") { Description = "Augment training images with random shifts of up to this many pixels (0 = off)." };
        var schedule = new Option<string?>("--schedule") { Description = "Learning-rate schedule: constant, cosine or step." };
        schedule.AcceptOnlyFromAmong(Recipe.Schedules);
        var warmup = new Option<double?>("--warmup") { Description = "Linear learning-rate warm-up, in epochs (0 = off)." };
        var standardize = new Option<bool?>("--standardize") { Description = "Standardize inputs with a layer fitted on the training set." };
        weightDecay.Require(v => v >= 0 && float.IsFinite(v!.Value), v => $"--weight-decay must be ≥ 0, got {v}.");
        dropout.Require(v => v >= 0 && v < 1, v => $"--dropout must be in [0, 1), got {v}.");
        shift.Require(v => v >= 0 && v <= 27, v => $"--shift must be between 0 and 27, got {v}.");
        warmup.Require(v => v >= 0 && double.IsFinite(v!.Value), v => $"--warmup must be ≥ 0, got {v}.");
        var save = new Option<string?>("--save") { Description = "After training, save the model to this file (safetensors, written atomically)." };
        var data = new Option<string?>("--data", "-d") { Recursive = true, Description = "Folder with the four MNIST IDX files (raw or .gz). Default: the repository's data/mnist." };

        learningRate.Require(v => v > 0 && float.IsFinite(v!.Value), v => $"--learning-rate must be a positive number, got {v}.");
        batchSize.Require(v => v > 0, v => $"--batch-size must be positive, got {v}.");
        epochs.Require(v => v > 0, v => $"--epochs must be positive, got {v}.");
        layers.Require(text => ParseLayers(text!) is not null, text => $"--layers must be positive integers separated by commas, got '{text}'.");

        var root = new RootCommand("Train a neural network on MNIST with NeuralDescent and report what it learned.")
        {
            preset, layers, activation, cost, init, learningRate, batchSize, epochs, seed, optimizer, weightDecay, dropout, shift, schedule, warmup, standardize, save, data,
        };
        root.Subcommands.Add(Bench.BenchCommand.Create(data));
        root.Subcommands.Add(Explain.ExplainCommand.Create(data));
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(CsvCommand.Create());
        root.SetAction((parse, cancellationToken) =>
        {
            Recipe basis = Recipe.Presets[parse.GetValue(preset)!];
            Recipe recipe = basis with
            {
                Hidden = parse.GetValue(layers) is string l ? ParseLayers(l)! : basis.Hidden,
                Activation = parse.GetValue(activation) ?? basis.Activation,
                Cost = parse.GetValue(cost) ?? basis.Cost,
                Init = parse.GetValue(init) ?? basis.Init,
                LearningRate = parse.GetValue(learningRate) ?? basis.LearningRate,
                BatchSize = parse.GetValue(batchSize) ?? basis.BatchSize,
                Epochs = parse.GetValue(epochs) ?? basis.Epochs,
                Seed = parse.GetValue(seed) ?? basis.Seed,
                Optimizer = parse.GetValue(optimizer) ?? basis.Optimizer,
                WeightDecay = parse.GetValue(weightDecay) ?? basis.WeightDecay,
                Dropout = parse.GetValue(dropout) ?? basis.Dropout,
                Shift = parse.GetValue(shift) ?? basis.Shift,
                Schedule = parse.GetValue(schedule) ?? basis.Schedule,
                Warmup = parse.GetValue(warmup) ?? basis.Warmup,
                Standardize = parse.GetValue(standardize) ?? basis.Standardize,
            };
            return Task.FromResult(Run(recipe, parse.GetValue(data), parse.GetValue(save), cancellationToken));
        });
        return root;
    }

    private static int[]? ParseLayers(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] <= 0) return null;
        }
        return sizes;
    }

    private static int Run(Recipe recipe, string? dataOption, string? savePath, CancellationToken cancellationToken)
    {
        string? directory = dataOption ?? DataLocator.FindMnist();
        if (directory is null)
        {
            Console.Error.WriteLine("error: could not find the MNIST data (data/mnist) above the current folder or the program; pass --data DIR.");
            return ExitCodes.BadInput;
        }
        if (!Directory.Exists(directory))
        {
            Console.Error.WriteLine($"error: the data directory '{directory}' does not exist.");
            return ExitCodes.BadInput;
        }

        DataSplit mnist;
        try
        {
            mnist = Mnist.Load(directory);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }

        Network network = recipe.CreateNetwork(mnist.Training, Mnist.ClassCount);
        var trainer = new Trainer(recipe.CreateCost(), recipe.CreateOptimizer(), recipe.CreateTrainerOptions());

        AnsiConsole.MarkupLineInterpolated($"[bold]NeuralDescent MNIST[/]: {recipe}");
        AnsiConsole.MarkupLineInterpolated($"Network: {network} ({network.ParameterCount:N0} parameters); data: {directory}");
        AnsiConsole.MarkupLine("Press Ctrl+C to stop after the current batch.");

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        TrainingHistory history;
        try
        {
            history = ConsoleReport.TrainWithProgress(trainer, network, mnist, cancel.Token);
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        ConsoleReport.PrintHistory(history);
        EvaluationResult test = Evaluator.Evaluate(network, mnist.Test, trainer.Cost);
        double minutes = history.Epochs.Sum(e => e.Duration.TotalMinutes);
        AnsiConsole.MarkupLineInterpolated($"[bold]Final test accuracy: {test.Accuracy:P2}[/] ({test.Correct:N0} of {test.Count:N0}), test loss {test.Loss:F4}, top-5 {test.TopKAccuracy:P2}; training time {minutes:F2} min{(history.Cancelled ? " (stopped early)" : "")}");
        ConsoleReport.PrintConfusionMatrix(test.Confusion!);
        if (savePath is not null)
        {
            try
            {
                NeuralDescent.Serialization.ModelFile.Save(network, savePath);
                AnsiConsole.MarkupLineInterpolated($"Saved the model to {savePath}; try: predict --model {savePath} --idx data/mnist/t10k-images-idx3-ubyte.gz");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: cannot save the model to '{savePath}': {e.Message}");
                return ExitCodes.Failure;
            }
        }
        return ExitCodes.Success;
    }
}
