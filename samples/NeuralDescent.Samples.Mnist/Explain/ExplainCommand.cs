using System.CommandLine;
using System.Globalization;
using NeuralDescent;
using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Diagnostics;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;
using NeuralDescent.Metrics;

namespace MnistSample.Explain;

/// <summary>
/// <c>explain TOPIC</c>: the tutorial's lessons as measurements from the library's Diagnostics API, drawn as PNG files
/// with ScottPlot. Each topic trains what it needs on MNIST (seconds to a minute) and prints its numbers.
/// </summary>
internal static class ExplainCommand
{
    private static readonly string[] Topics = ["curves", "weights", "saliency", "noise", "memorization", "landscape", "optimizers", "gradients", "filters", "all"];

    public static Command Create(Option<string?> dataOption)
    {
        var topic = new Argument<string>("topic") { Description = "What to explain: " + string.Join(", ", Topics) + "." };
        topic.AcceptOnlyFromAmong(Topics);
        var output = new Option<string>("--out") { Description = "Folder for the PNG files.", DefaultValueFactory = _ => Path.Combine("docs", "images") };
        var command = new Command("explain", "Measure and draw the tutorial's lessons (learning curves, weights, saliency, noise, memorization, loss landscape, optimizer paths, gradients, convolution filters).") { topic, output };
        command.SetAction(parse =>
        {
            string? directory = parse.GetValue(dataOption) ?? DataLocator.FindMnist();
            if (directory is null || !Directory.Exists(directory))
            {
                Console.Error.WriteLine($"error: MNIST data folder {(directory is null ? "not found; pass --data DIR" : $"'{directory}' does not exist")}.");
                return ExitCodes.BadInput;
            }
            string outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            DataSplit mnist = Mnist.Load(directory);
            string which = parse.GetValue(topic)!;
            foreach (string t in which == "all" ? Topics[..^1] : [which])
            {
                Console.WriteLine($"== {t}");
                Run(t, mnist, outDir);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Run(string topic, DataSplit mnist, string outDir)
    {
        switch (topic)
        {
            case "curves": Curves(mnist, outDir); break;
            case "weights": Weights(mnist, outDir); break;
            case "saliency": SaliencyMaps(mnist, outDir); break;
            case "noise": Noise(mnist, outDir); break;
            case "memorization": Memorization(mnist, outDir); break;
            case "landscape": Landscape(mnist, outDir); break;
            case "optimizers": Optimizers(outDir); break;
            case "gradients": Gradients(mnist, outDir); break;
            case "filters": Filters(mnist, outDir); break;
        }
    }

    private static string Save(ScottPlot.Plot plot, string outDir, string name, int width = 800, int height = 500)
    {
        string path = Path.Combine(outDir, name);
        plot.SavePng(path, width, height);
        Console.WriteLine($"wrote {path}");
        return path;
    }

    private static double[] Epochs(TrainingHistory h) => h.Epochs.Select(e => (double)e.Epoch).ToArray();

    /// <summary>Learning curves: training and test loss and accuracy per epoch of the default network.</summary>
    private static void Curves(DataSplit mnist, string outDir)
    {
        var network = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        TrainingHistory h = new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 10, BatchSize = 64, Seed = 1 }).Fit(network, mnist);
        var loss = new ScottPlot.Plot();
        loss.Add.Scatter(Epochs(h), h.Epochs.Select(e => (double)e.TrainingLoss).ToArray()).LegendText = "training loss";
        loss.Add.Scatter(Epochs(h), h.Epochs.Select(e => (double)e.TestLoss!.Value).ToArray()).LegendText = "test loss";
        loss.Title("784-128-10 ReLU, SGD η = 0.3: loss per epoch");
        loss.XLabel("epoch");
        loss.YLabel("loss");
        loss.ShowLegend();
        Save(loss, outDir, "curves-loss.png");
        var accuracy = new ScottPlot.Plot();
        accuracy.Add.Scatter(Epochs(h), h.Epochs.Select(e => 100 * e.TrainingAccuracy).ToArray()).LegendText = "training accuracy";
        accuracy.Add.Scatter(Epochs(h), h.Epochs.Select(e => 100 * e.TestAccuracy!.Value).ToArray()).LegendText = "test accuracy";
        accuracy.Title("784-128-10 ReLU: accuracy per epoch (%)");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy (%)");
        accuracy.ShowLegend(ScottPlot.Alignment.LowerRight);
        Save(accuracy, outDir, "curves-accuracy.png");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final: training loss {h.Last!.TrainingLoss:F4}, test loss {h.Last.TestLoss:F4}, test accuracy {h.Last.TestAccuracy:P2}"));
    }

    /// <summary>The tutorial's 784-16-16-10 network: its 16 first-layer weight vectors as 28×28 tiles.</summary>
    private static void Weights(DataSplit mnist, string outDir)
    {
        var first = new Dense(784, 16, Initializer.StandardNormal);
        var network = new Network(1, first, new Sigmoid(), new Dense(16, 16, Initializer.StandardNormal), new Sigmoid(), new Dense(16, 10, Initializer.StandardNormal), new Sigmoid());
        TrainingHistory h = new Trainer(new QuadraticCost(), new Sgd(3f), new TrainerOptions { Epochs = 10, BatchSize = 10, Seed = 1 }).Fit(network, mnist);
        double[,] grid = Tiles(Enumerable.Range(0, 16).Select(u => first.Weights.Values.Slice(u * 784, 784).ToArray()).ToArray(), columns: 4, normalizeEach: true);
        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(grid);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Title($"784-16-16-10 sigmoid, {h.Last!.TestAccuracy:P1} test: first-layer weights");
        plot.HideAxesAndGrid();
        Save(plot, outDir, "weights.png", 700, 720);
        Console.WriteLine("Each tile shows one hidden unit's 784 weights as a 28×28 image (scaled per tile). They are not edges or strokes: the network solves the task without the tidy features the tutorial hoped for.");
    }

    /// <summary>Saliency maps of eight test digits next to the digits themselves.</summary>
    private static void SaliencyMaps(DataSplit mnist, string outDir)
    {
        var network = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
        new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 1 }).Fit(network, mnist);
        var tiles = new List<float[]>();
        var row = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            var x = new float[784];
            mnist.Test.CopyInput(i, x);
            int label = mnist.Test.GetLabel(i);
            float[] s = Saliency.Compute(network, x, label);
            tiles.Add(x);
            tiles.Add(s.Select(Math.Abs).ToArray());
            row.Add(label.ToString(CultureInfo.InvariantCulture));
        }
        // Layout: 4 columns of (digit, |saliency|) pairs.
        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(Tiles([.. tiles], columns: 4, normalizeEach: true));
        heatmap.Colormap = new ScottPlot.Colormaps.Inferno();
        plot.Title($"Digits {string.Join(" ", row)}: each image, then |∂ logit / ∂ pixel|");
        plot.HideAxesAndGrid();
        Save(plot, outDir, "saliency.png", 760, 800);
    }

    /// <summary>The noise probe before and after training with noise images targeted at the uniform distribution.</summary>
    private static void Noise(DataSplit mnist, string outDir)
    {
        Network Fit(Dataset data)
        {
            var network = new Network(1, new Dense(784, 128), new ReLU(), new Dense(128, 10), new Softmax());
            new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 5, BatchSize = 64, Seed = 1 }).Fit(network, data);
            return network;
        }
        Network plain = Fit(mnist.Training);
        // 3,000 noise images (5 % more data) with uniform targets; 6,000 at this learning rate cost 2 points of digit accuracy.
        Network remedied = Fit(NoiseProbe.WithNoiseSamples(mnist.Training, 3000, seed: 2));
        NoiseProbeResult before = NoiseProbe.Run(plain, 2000, seed: 3), after = NoiseProbe.Run(remedied, 2000, seed: 3);
        double accBefore = Evaluator.Evaluate(plain, mnist.Test, new CrossEntropyCost()).Accuracy, accAfter = Evaluator.Evaluate(remedied, mnist.Test, new CrossEntropyCost()).Accuracy;
        var plot = new ScottPlot.Plot();
        var bars = new List<ScottPlot.Bar>();
        for (int c = 0; c < 10; c++)
        {
            bars.Add(new ScottPlot.Bar { Position = c - 0.2, Value = before.Histogram[c], Size = 0.4, FillColor = ScottPlot.Colors.OrangeRed });
            bars.Add(new ScottPlot.Bar { Position = c + 0.2, Value = after.Histogram[c], Size = 0.4, FillColor = ScottPlot.Colors.SteelBlue });
        }
        plot.Add.Bars(bars);
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"Digit called on 2,000 noise images: plain (red, confidence {before.MeanConfidence:P0}), noise-trained (blue, {after.MeanConfidence:P0})"));
        plot.XLabel("predicted digit");
        plot.YLabel("noise images");
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, 10).Select(i => (double)i).ToArray(), Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
        Save(plot, outDir, "noise.png", 1000, 500);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean top-class confidence on noise: {before.MeanConfidence:P1} -> {after.MeanConfidence:P1}; test accuracy on digits: {accBefore:P2} -> {accAfter:P2} ({100 * (accAfter - accBefore):+0.00;-0.00} points)"));
    }

    /// <summary>Training on shuffled labels beside true labels: high training accuracy is not learning.</summary>
    private static void Memorization(DataSplit mnist, string outDir)
    {
        Dataset subset = mnist.Training.Slice(0, 2000);
        TrainingHistory Run(Dataset data) => new Trainer(new CrossEntropyCost(), new Adam(1e-3f), new TrainerOptions { Epochs = 60, BatchSize = 50, Seed = 1 })
            .Fit(new Network(1, new Dense(784, 512), new ReLU(), new Dense(512, 10), new Softmax()), data, mnist.Test);
        TrainingHistory shuffled = Run(subset.WithShuffledLabels(seed: 1));
        TrainingHistory real = Run(subset);
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(Epochs(real), real.Epochs.Select(e => 100 * e.TrainingAccuracy).ToArray()).LegendText = "true labels: training";
        plot.Add.Scatter(Epochs(real), real.Epochs.Select(e => 100 * e.TestAccuracy!.Value).ToArray()).LegendText = "true labels: test";
        plot.Add.Scatter(Epochs(shuffled), shuffled.Epochs.Select(e => 100 * e.TrainingAccuracy).ToArray()).LegendText = "shuffled labels: training";
        plot.Add.Scatter(Epochs(shuffled), shuffled.Epochs.Select(e => 100 * e.TestAccuracy!.Value).ToArray()).LegendText = "shuffled labels: test";
        plot.Title("784-512-10 on 2,000 digits memorizes random labels too");
        plot.XLabel("epoch");
        plot.YLabel("accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        Save(plot, outDir, "memorization.png");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"shuffled labels: training {shuffled.Last!.TrainingAccuracy:P1}, test {shuffled.Last.TestAccuracy:P1}; true labels: training {real.Last!.TrainingAccuracy:P1}, test {real.Last.TestAccuracy:P1}"));
    }

    /// <summary>The cost along the line from the initial to the trained weights, and a 2-D slice around the trained ones.</summary>
    private static void Landscape(DataSplit mnist, string outDir)
    {
        Dataset probe = mnist.Training.Slice(0, 2000);
        var network = new Network(1, new Dense(784, 64), new ReLU(), new Dense(64, 10), new Softmax());
        var cost = new CrossEntropyCost();
        float[][] initial = LossLandscape.Snapshot(network);
        new Trainer(cost, new Sgd(0.2f), new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = 1 }).Fit(network, mnist.Training);
        float[][] trained = LossLandscape.Snapshot(network);
        (double[] alpha, double[] loss) = LossLandscape.Line(network, initial, trained, probe, cost, points: 41, from: -0.5, to: 1.5);
        var line = new ScottPlot.Plot();
        line.Add.Scatter(alpha, loss);
        line.Add.VerticalLine(0).LegendText = "initial";
        line.Add.VerticalLine(1).LegendText = "trained";
        line.Title("Loss along (1 − α)·θ_initial + α·θ_trained");
        line.XLabel("α");
        line.YLabel("loss");
        Save(line, outDir, "landscape-line.png");
        (double[] coordinates, double[,] grid) = LossLandscape.Slice(network, probe, cost, gridSize: 31, radius: 1, seed: 1);
        var slice = new ScottPlot.Plot();
        // Heatmap rows run top to bottom: put direction 1 along x and direction 2 along y, increasing upwards.
        int n = grid.GetLength(0);
        double[,] logLoss = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) logLoss[n - 1 - j, i] = Math.Log10(grid[i, j]);
        var heatmap = slice.Add.Heatmap(logLoss);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Extent = new ScottPlot.CoordinateRect(coordinates[0], coordinates[^1], coordinates[0], coordinates[^1]);
        slice.Add.ColorBar(heatmap).Label = "log₁₀ loss";
        slice.Title("log₁₀ loss around the trained weights (2 random directions)");
        slice.XLabel("direction 1");
        slice.YLabel("direction 2");
        Save(slice, outDir, "landscape-slice.png", 760, 640);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss at α = 0: {loss[10]:F3}, at α = 1: {loss[30]:F3}, lowest {loss.Min():F3} at α = {alpha[Array.IndexOf(loss, loss.Min())]:F2}"));
    }

    /// <summary>Plain gradient descent and momentum on a rippled bowl with a shallow and a deep well.</summary>
    private static void Optimizers(string outDir)
    {
        var plain = OptimizerPaths.Trace(new Sgd(0.3f), OptimizerPaths.Ripples, 2.5, 2.5, 300);
        var momentum = OptimizerPaths.Trace(new Momentum(0.3f, 0.9f), OptimizerPaths.Ripples, 2.5, 2.5, 300);
        const int n = 121;
        var surface = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                surface[n - 1 - i, j] = OptimizerPaths.Ripples(-4 + 8.0 * j / (n - 1), -4 + 8.0 * i / (n - 1)).Value;
        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(surface);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Extent = new ScottPlot.CoordinateRect(-4, 4, -4, 4);
        plot.Add.ColorBar(heatmap).Label = "f(x, y)";
        var p = plot.Add.Scatter(plain.Select(q => q.X).ToArray(), plain.Select(q => q.Y).ToArray());
        p.LegendText = string.Create(CultureInfo.InvariantCulture, $"gradient descent (ends at f = {plain[^1].Value:F2})");
        p.Color = ScottPlot.Colors.White;
        var m = plot.Add.Scatter(momentum.Select(q => q.X).ToArray(), momentum.Select(q => q.Y).ToArray());
        m.LegendText = string.Create(CultureInfo.InvariantCulture, $"momentum μ = 0.9 (ends at f = {momentum[^1].Value:F2})");
        m.Color = ScottPlot.Colors.OrangeRed;
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Title("From (2.5, 2.5), η = 0.3: momentum leaves the shallow well");
        Save(plot, outDir, "optimizers.png", 760, 680);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gradient descent ends at ({plain[^1].X:F2}, {plain[^1].Y:F2}), f = {plain[^1].Value:F3}; momentum at ({momentum[^1].X:F2}, {momentum[^1].Y:F2}), f = {momentum[^1].Value:F3}"));
    }

    /// <summary>Per-layer gradient norms of a deep sigmoid network against the same depth with ReLU and He initialization.</summary>
    private static void Gradients(DataSplit mnist, string outDir)
    {
        static Network Deep(Func<ILayer> activation, Initializer init)
        {
            var layers = new List<ILayer> { new Dense(784, 32, init), activation() };
            for (int i = 0; i < 5; i++) layers.AddRange([new Dense(32, 32, init), activation()]);
            layers.AddRange([new Dense(32, 10, init), new Softmax()]);
            return new Network(1, [.. layers]);
        }
        TrainingHistory Run(Network network) => new Trainer(new CrossEntropyCost(), new Sgd(0.1f), new TrainerOptions { Epochs = 1, BatchSize = 32 }).Fit(network, mnist.Training.Slice(0, 10_000));
        TrainingHistory sigmoid = Run(Deep(() => new Sigmoid(), Initializer.GlorotUniform));
        TrainingHistory relu = Run(Deep(() => new ReLU(), Initializer.HeNormal));
        double[] layers = Enumerable.Range(1, sigmoid.Last!.Health.Count).Select(i => (double)i).ToArray();
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(layers, sigmoid.Last.Health.Select(h => Math.Log10(h.GradientNorm)).ToArray()).LegendText = "sigmoid, Glorot";
        plot.Add.Scatter(layers, relu.Last!.Health.Select(h => Math.Log10(h.GradientNorm)).ToArray()).LegendText = "ReLU, He";
        plot.Title("Gradient norm per dense layer, 7 layers deep, 1 epoch");
        plot.XLabel("dense layer (1 = nearest the input)");
        plot.YLabel("log₁₀ ‖∂C/∂θ‖");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        Save(plot, outDir, "gradients.png");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first-layer gradient norm: sigmoid {sigmoid.Last.Health[0].GradientNorm:G3}, ReLU+He {relu.Last.Health[0].GradientNorm:G3}"));
    }

    /// <summary>
    /// A small convolutional network: its 16 first-layer 5×5 filters, and the saliency of four test digits through the
    /// convolutions (∂ logit / ∂ pixel).
    /// </summary>
    private static void Filters(DataSplit mnist, string outDir)
    {
        var first = new Conv2D(1, 16, 5, padding: 2);
        var network = new Network(1, Shape.Image(1, 28, 28),
            first, new ReLU(), new MaxPool2D(2), new Conv2D(16, 32, 3, padding: 1), new ReLU(), new MaxPool2D(2),
            new Flatten(), new Dense(32 * 7 * 7, 10), new Softmax());
        TrainingHistory h = new Trainer(new CrossEntropyCost(), new Adam(2e-3f), new TrainerOptions { Epochs = 2, BatchSize = 64, Seed = 1 }).Fit(network, mnist);
        float[][] filters = Enumerable.Range(0, 16).Select(f => first.Weights.Values.Slice(f * 25, 25).ToArray()).ToArray();
        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(Tiles(filters, columns: 8, normalizeEach: true, side: 5, pad: 1));
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Title($"Conv2D(1→16, 5×5), {h.Last!.TestAccuracy:P2} test after 2 epochs: the 16 first-layer filters");
        plot.HideAxesAndGrid();
        Save(plot, outDir, "filters.png", 800, 260);

        var tiles = new List<float[]>();
        for (int i = 0; i < 4; i++)
        {
            var x = new float[784];
            mnist.Test.CopyInput(i, x);
            tiles.Add(x);
            tiles.Add(Saliency.Compute(network, x, mnist.Test.GetLabel(i)).Select(Math.Abs).ToArray());
        }
        var saliency = new ScottPlot.Plot();
        var map = saliency.Add.Heatmap(Tiles([.. tiles], columns: 4, normalizeEach: true));
        map.Colormap = new ScottPlot.Colormaps.Inferno();
        saliency.Title("Through the convolutions: each digit, then |∂ logit / ∂ pixel|");
        saliency.HideAxesAndGrid();
        Save(saliency, outDir, "saliency-cnn.png", 760, 420);
        Console.WriteLine($"Test accuracy after 2 epochs: {h.Last!.TestAccuracy:P2}. Each filter tile is one 5×5 kernel (scaled per tile): unlike a dense unit's 784 weights, a filter sees one small patch and is applied at every position of the image.");
    }

    /// <summary>Lays square images of <paramref name="side"/> × <paramref name="side"/> out in a grid (<paramref name="pad"/> pixels between them), each scaled to [0, 1] when asked.</summary>
    private static double[,] Tiles(float[][] images, int columns, bool normalizeEach, int side = 28, int pad = 2)
    {
        int rows = (images.Length + columns - 1) / columns;
        var grid = new double[rows * (side + pad) - pad, columns * (side + pad) - pad];
        for (int t = 0; t < images.Length; t++)
        {
            float min = normalizeEach ? images[t].Min() : 0f, max = normalizeEach ? images[t].Max() : 1f;
            float range = max > min ? max - min : 1f;
            int r0 = (t / columns) * (side + pad), c0 = (t % columns) * (side + pad);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++) grid[r0 + y, c0 + x] = (images[t][y * side + x] - min) / range;
        }
        return grid;
    }
}
