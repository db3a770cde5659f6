using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Layers;
using NeuralDescent.Metrics;
using NeuralDescent.Optimizers;
using NeuralDescent.Training;

namespace NeuralDescent.Tests.Training;

/// <summary>Regression on the user's own arrays, measured with MAE, RMSE and R².</summary>
public class RegressionTests
{
    [Fact]
    public void EvaluateRegression_MatchesTheDefinitions_ComputedByHand()
    {
        // y = 2x + 1 exactly (one Dense unit), targets off by known amounts, two outputs to check the pooling.
        var network = new Network(Shape.Features(1), new Dense(1, 2));
        network.Layers[0].Parameters[0].Values.Fill(2f);
        network.Layers[0].Parameters[1].Values.Fill(1f);
        float[] x = [0f, 1f, 2f, 3f, 1000f];
        float[] noise = [0.5f, -1f, 0f, 2f, -0.25f];
        float[] targets = x.SelectMany((v, i) => new[] { 2 * v + 1 + noise[i], 2 * v + 1 - noise[i] }).ToArray();
        RegressionResult r = Evaluator.EvaluateRegression(network, Dataset.FromTargets(x, 1, targets, 2), batchSize: 2);

        double[] errors = noise.SelectMany(e => new[] { -(double)e, e }).ToArray();
        double mae = errors.Average(Math.Abs), rmse = Math.Sqrt(errors.Average(e => e * e));
        double ssTot = 0;
        for (int k = 0; k < 2; k++)
        {
            double[] column = targets.Where((_, i) => i % 2 == k).Select(t => (double)t).ToArray();
            ssTot += column.Sum(t => (t - column.Average()) * (t - column.Average()));
        }
        r.Count.Should().Be(5);
        r.MeanAbsoluteError.Should().BeApproximately(mae, 1e-9);
        r.RootMeanSquaredError.Should().BeApproximately(rmse, 1e-9);
        r.RSquared.Should().BeApproximately(1 - errors.Sum(e => e * e) / ssTot, 1e-9);
    }

    [Fact]
    public void ReadmeTabularExample_LearnsAHousePriceLikeFunction()
    {
        // README's "your own data" example, as written there.
        var random = new Random(1);
        int n = 2000;
        float[] features = new float[n * 3], prices = new float[n];
        for (int i = 0; i < n; i++)
        {
            float rooms = random.Next(1, 7), area = 30 + 170 * random.NextSingle(), age = 60 * random.NextSingle();
            features[3 * i] = rooms; features[3 * i + 1] = area; features[3 * i + 2] = age;
            prices[i] = 50 + 1.5f * area + 10 * rooms - 0.8f * age;   // in thousands
        }
        Dataset all = Dataset.FromTargets(features, inputSize: 3, prices, targetSize: 1);
        Dataset training = all.Slice(0, 1600), test = all.Slice(1600, 400);

        var network = new Network(seed: 1, Standardize.Fit(training), new Dense(3, 32), new ReLU(), new Dense(32, 1));
        new Trainer(new QuadraticCost(), new Adam(0.01f), new TrainerOptions { Epochs = 60, BatchSize = 32, Seed = 1 })
            .Fit(network, training, cancellationToken: TestContext.Current.CancellationToken);
        RegressionResult r = Evaluator.EvaluateRegression(network, test);

        r.RSquared.Should().BeGreaterThan(0.99);
        r.MeanAbsoluteError.Should().BeLessThan(5);
    }
}
