using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Diagnostics;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;
using NeuralDescent.Randomness;
using NeuralDescent.Training;
using NeuralDescent.Tests.Support;
using NeuralDescent.Metrics;

namespace NeuralDescent.Tests.Diagnostics;

/// <summary>The tutorial's lessons, measured on small slices of MNIST.</summary>
[Collection(MnistCollection.Name)]
public class DiagnosticsTests(MnistFixture mnist, ITestOutputHelper output)
{
    private Dataset Train(int n) => mnist.Data.Training.Slice(0, n);

    private Dataset Test(int n) => mnist.Data.Test.Slice(0, n);

    [Fact]
    public void GradientChecker_PassesACorrectNetwork_AndCatchesABrokenLayer()
    {
        var network = new Network(1, new Dense(784, 16), new Tanh(), new Dense(16, 10), new Softmax());
        IReadOnlyList<LayerGradientCheck> report = GradientChecker.Check(network, new CrossEntropyCost(), Train(50));
        report.Select(r => r.Name).Should().Equal("Dense(784→16)", "Dense(16→10)");
        report.Should().OnlyContain(r => r.MaxRelativeError < 2e-2);
        report.Select(r => r.Checked).Should().Equal(20 + 16, 20 + 10); // up to 20 values of each weight and bias

        var broken = new Network(1, new Dense(784, 16), new DoubledGradient(), new Dense(16, 10), new Softmax());
        IReadOnlyList<LayerGradientCheck> bad = GradientChecker.Check(broken, new CrossEntropyCost(), Train(50));
        bad[0].MaxRelativeError.Should().BeGreaterThan(0.2); // the layer before the bug gets twice the true gradient
        bad[1].MaxRelativeError.Should().BeLessThan(2e-2);
    }

    [Fact]
    public void GradientHealth_DeepSigmoidVanishes_WhereReluWithHeDoesNot()
    {
        static Network Deep(Func<ILayer> activation, Initializer init)
        {
            var layers = new List<ILayer> { new Dense(784, 32, init), activation() };
            for (int i = 0; i < 5; i++) layers.AddRange([new Dense(32, 32, init), activation()]);
            layers.AddRange([new Dense(32, 10, init), new Softmax()]);
            return new Network(1, [.. layers]);
        }

        var warnings = new List<TrainingWarning>();
        TrainingHistory Run(Network network, double threshold) => new Trainer(new CrossEntropyCost(), new Sgd(0.1f),
            new TrainerOptions { Epochs = 1, BatchSize = 32, VanishingGradientRms = threshold, Callbacks = [new WarningSink(warnings)] }).Fit(network, Train(3000));

        TrainingHistory sigmoid = Run(Deep(() => new Sigmoid(), Initializer.GlorotUniform), 1e-5);
        int sigmoidWarnings = warnings.Count;
        TrainingHistory relu = Run(Deep(() => new ReLU(), Initializer.HeNormal), 1e-5);

        double firstSigmoid = sigmoid.Last!.Health[0].GradientNorm, lastSigmoid = sigmoid.Last.Health[^1].GradientNorm;
        double firstRelu = relu.Last!.Health[0].GradientNorm, lastRelu = relu.Last.Health[^1].GradientNorm;
        output.WriteLine($"first/last layer gradient norm: sigmoid {firstSigmoid:G3} / {lastSigmoid:G3}; ReLU+He {firstRelu:G3} / {lastRelu:G3}");
        sigmoid.Last.Health.Should().HaveCount(7);
        (firstRelu / firstSigmoid).Should().BeGreaterThan(100);         // orders of magnitude apart in the early layers
        (firstSigmoid / lastSigmoid).Should().BeLessThan(1e-2);          // the sigmoid stack loses its gradient on the way down
        sigmoidWarnings.Should().BeGreaterThan(0);
        warnings.Take(sigmoidWarnings).Should().OnlyContain(w => w.Kind == TrainingWarningKind.VanishingGradient);
        warnings[0].Message.Should().Contain("layer 0 Dense(784→32)");
        warnings.Count.Should().Be(sigmoidWarnings);                     // none for ReLU + He
    }

    [Fact]
    public void Saliency_IsTheGradientOfTheClassScore()
    {
        var network = new Network(2, new Dense(784, 20), new Tanh(), new Dense(20, 10), new Softmax());
        new Trainer(new CrossEntropyCost(), new Sgd(0.3f), new TrainerOptions { Epochs = 1, BatchSize = 20 }).Fit(network, Train(2000), cancellationToken: TestContext.Current.CancellationToken);
        var x = new float[784];
        mnist.Data.Test.CopyInput(0, x);
        float[] saliency = Saliency.Compute(network, x, classIndex: 7);
        saliency.Should().HaveCount(784);

        // The score is the logit of class 7 (the input of the softmax): check a few pixels by central differences.
        var logitNetwork = new Network(2, new Dense(784, 20), new Tanh(), new Dense(20, 10));
        for (int p = 0; p < 4; p++) network.Parameters[p].Values.CopyTo(logitNetwork.Parameters[p].Values);
        foreach (int pixel in new[] { 100, 300, 400, 500 })
        {
            float saved = x[pixel];
            x[pixel] = saved + 1e-2f;
            float plus = logitNetwork.Predict(x)[7];
            x[pixel] = saved - 1e-2f;
            float minus = logitNetwork.Predict(x)[7];
            x[pixel] = saved;
            saliency[pixel].Should().BeApproximately((plus - minus) / 2e-2f, 2e-3f + 0.02f * Math.Abs(saliency[pixel]));
        }
        network.Parameters.SelectMany(p => p.Gradient.ToArray()).Should().OnlyContain(g => g == 0f);
    }

    [Fact]
    public void WeightImportance_RanksWeights_AndBlankPixelsDoNotMatter()
    {
        var network = new Network(3, new Dense(784, 16), new ReLU(), new Dense(16, 10), new Softmax());
        new Trainer(new CrossEntropyCost(), new Sgd(0.2f), new TrainerOptions { Epochs = 1, BatchSize = 32 }).Fit(network, Train(2000), cancellationToken: TestContext.Current.CancellationToken);
        float[][] map = WeightImportanceAnalysis.Map(network, new CrossEntropyCost(), Train(1000));
        // Pixel 0 (the top-left corner) is blank in every image: the weights reading it get no gradient at all.
        for (int unit = 0; unit < 16; unit++) map[0][unit * 784].Should().Be(0f);
        IReadOnlyList<WeightImportance> top = WeightImportanceAnalysis.Top(network, new CrossEntropyCost(), Train(1000), 10);
        top.Should().HaveCount(10);
        top.Select(w => w.Importance).Should().BeInDescendingOrder();
        top[0].Importance.Should().BeGreaterThan(0);
    }

    [Fact]
    public void NoiseProbe_DigitNetworkIsOverconfidentOnStatic_AndNoiseTrainingCalmsIt()
    {
        Dataset training = Train(10_000), test = Test(2000);
        Network Fit(Dataset data)
        {
            var network = new Network(4, new Dense(784, 64), new ReLU(), new Dense(64, 10), new Softmax());
            new Trainer(new CrossEntropyCost(), new Sgd(0.2f), new TrainerOptions { Epochs = 3, BatchSize = 32, Seed = 4 }).Fit(network, data);
            return network;
        }
        Network plain = Fit(training);
        Network remedied = Fit(NoiseProbe.WithNoiseSamples(training, 1000, seed: 5));
        NoiseProbeResult before = NoiseProbe.Run(plain, 500, seed: 9), after = NoiseProbe.Run(remedied, 500, seed: 9);
        double accuracyBefore = Evaluator.Evaluate(plain, test, new CrossEntropyCost()).Accuracy, accuracyAfter = Evaluator.Evaluate(remedied, test, new CrossEntropyCost()).Accuracy;
        output.WriteLine($"noise confidence {before.MeanConfidence:P1} -> {after.MeanConfidence:P1}; digits {accuracyBefore:P2} -> {accuracyAfter:P2}; histogram before [{string.Join(", ", before.Histogram)}]");

        before.MeanConfidence.Should().BeGreaterThan(0.5);
        before.Histogram.Max().Should().BeGreaterThan(before.Count / 3); // static is mostly called one digit
        after.MeanConfidence.Should().BeLessThan(0.2);
        Math.Abs(accuracyAfter - accuracyBefore).Should().BeLessThan(0.01);
    }

    [Fact]
    public void Memorization_ShuffledLabelsAreFitWhileTestAccuracyStaysAtChance()
    {
        Dataset subset = Train(500), test = Test(1000);
        TrainingHistory Run(Dataset data) => new Trainer(new CrossEntropyCost(), new Adam(2e-3f), new TrainerOptions { Epochs = 60, BatchSize = 25, Seed = 1 })
            .Fit(new Network(1, new Dense(784, 256), new ReLU(), new Dense(256, 10), new Softmax()), data, test);
        TrainingHistory shuffled = Run(subset.WithShuffledLabels(seed: 7));
        TrainingHistory real = Run(subset);
        output.WriteLine($"shuffled labels: train {shuffled.Last!.TrainingAccuracy:P1}, test {shuffled.Last.TestAccuracy:P1}; true labels: train {real.Last!.TrainingAccuracy:P1}, test {real.Last.TestAccuracy:P1}");
        shuffled.Last.TrainingAccuracy.Should().BeGreaterThan(0.6);
        shuffled.Last.TestAccuracy.Should().BeLessThan(0.16);
        real.Last.TestAccuracy.Should().BeGreaterThan(0.8);
    }

    [Fact]
    public void StepActivation_LearnsNothing_WhereSigmoidLearns()
    {
        Dataset data = Train(2000), test = Test(1000);
        (double Before, double After, bool Moved) Run(Func<ILayer> activation)
        {
            var network = new Network(5, new Dense(784, 30), activation(), new Dense(30, 10), activation());
            double before = Evaluator.Evaluate(network, test, new QuadraticCost()).Accuracy;
            float[] initial = network.Parameters[0].Values.ToArray();
            new Trainer(new QuadraticCost(), new Sgd(3f), new TrainerOptions { Epochs = 3, BatchSize = 10 }).Fit(network, data);
            return (before, Evaluator.Evaluate(network, test, new QuadraticCost()).Accuracy, !network.Parameters[0].Values.ToArray().SequenceEqual(initial));
        }
        var step = Run(() => new Step());
        var sigmoid = Run(() => new Sigmoid());
        output.WriteLine($"step: {step.Before:P1} -> {step.After:P1}; sigmoid: {sigmoid.Before:P1} -> {sigmoid.After:P1}");
        step.Moved.Should().BeFalse();
        step.After.Should().Be(step.Before);
        sigmoid.Moved.Should().BeTrue();
        sigmoid.After.Should().BeGreaterThan(0.8);
    }

    [Fact]
    public void LossLandscape_LineEndsAtTheInitialAndTrainedLosses_AndSliceIsCentredOnTheWeights()
    {
        Dataset data = Train(1000);
        var network = new Network(6, new Dense(784, 16), new ReLU(), new Dense(16, 10), new Softmax());
        var cost = new CrossEntropyCost();
        float[][] initial = LossLandscape.Snapshot(network);
        double initialLoss = Evaluator.Evaluate(network, data, cost).Loss;
        new Trainer(cost, new Sgd(0.2f), new TrainerOptions { Epochs = 3, BatchSize = 20 }).Fit(network, data, cancellationToken: TestContext.Current.CancellationToken);
        float[][] trained = LossLandscape.Snapshot(network);
        double trainedLoss = Evaluator.Evaluate(network, data, cost).Loss;

        (double[] alpha, double[] loss) = LossLandscape.Line(network, initial, trained, data, cost, points: 7, from: 0, to: 1.5);
        alpha.Should().Equal(0, 0.25, 0.5, 0.75, 1, 1.25, 1.5);
        loss[0].Should().BeApproximately(initialLoss, 1e-4);
        loss[4].Should().BeApproximately(trainedLoss, 1e-4);
        loss[4].Should().BeLessThan(loss[0]);
        LossLandscape.Snapshot(network).Should().BeEquivalentTo(trained); // weights restored

        (double[] coordinates, double[,] grid) = LossLandscape.Slice(network, data, cost, gridSize: 5, radius: 0.5, seed: 1);
        coordinates.Should().Equal(-0.5, -0.25, 0, 0.25, 0.5);
        grid[2, 2].Should().BeApproximately(trainedLoss, 1e-4);
        grid[0, 0].Should().BeGreaterThan(grid[2, 2]);
    }

    [Fact]
    public void OptimizerPaths_MomentumRollsPastTheShallowWell()
    {
        var plain = OptimizerPaths.Trace(new Sgd(0.3f), OptimizerPaths.Ripples, 2.5, 2.5, 300);
        var momentum = OptimizerPaths.Trace(new Momentum(0.3f, 0.9f), OptimizerPaths.Ripples, 2.5, 2.5, 300);
        plain.Should().HaveCount(301);
        output.WriteLine($"plain ends at ({plain[^1].X:F2}, {plain[^1].Y:F2}) f = {plain[^1].Value:F3}; momentum at ({momentum[^1].X:F2}, {momentum[^1].Y:F2}) f = {momentum[^1].Value:F3}");
        momentum[^1].Value.Should().BeLessThan(plain[^1].Value - 0.1);
    }

    private sealed class DoubledGradient : ActivationLayer
    {
        public override string Name => "DoubledGradient";

        protected override void Apply(ReadOnlySpan<float> input, Span<float> output, int batchSize, int width) => input.CopyTo(output);

        protected override void Derive(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batchSize, int width)
        {
            for (int i = 0; i < inputGradient.Length; i++) inputGradient[i] = 2 * outputGradient[i];
        }
    }

    private sealed class WarningSink(List<TrainingWarning> sink) : ITrainingCallback
    {
        public void OnWarning(TrainingContext context, TrainingWarning warning) => sink.Add(warning);
    }
}
