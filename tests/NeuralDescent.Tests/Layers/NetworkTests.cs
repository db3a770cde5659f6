using NeuralDescent.Costs;
using NeuralDescent.Data;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Tests.Support;
using NeuralDescent.Metrics;

using NeuralDescent.Tests.Kernels;

namespace NeuralDescent.Tests.Layers;

[Collection(SimdSwitchCollection.Name)]
public class NetworkTests
{
    [Fact]
    public void Constructor_ShapeMismatch_NamesBothLayers()
    {
        FluentActions.Invoking(() => new Network(new Dense(784, 30), new Sigmoid(), new Dense(20, 10)))
            .Should().Throw<ArgumentException>()
            .WithMessage("Shape mismatch: layer 1 Sigmoid gives 30, layer 2 Dense(20→10) expects 20 features.*");
    }

    [Fact]
    public void Constructor_RejectsEmptyAndSharedLayers()
    {
        FluentActions.Invoking(() => new Network()).Should().Throw<ArgumentException>();
        var relu = new ReLU();
        FluentActions.Invoking(() => new Network(new Dense(2, 2), relu, new Dense(2, 2), relu))
            .Should().Throw<ArgumentException>().WithMessage("*layer 3 (ReLU) is the same object as layer 1*");
        FluentActions.Invoking(() => new Network(new Sigmoid())).Should().Throw<ArgumentException>().WithMessage("*No layer states the input shape*Shape.Image*");
    }

    [Fact]
    public void Layer_CannotBelongToTwoNetworks()
    {
        var dense = new Dense(4, 3);
        var first = new Network(1, dense, new ReLU());
        float[] before = dense.Weights.Values.ToArray();
        FluentActions.Invoking(() => new Network(2, dense, new Sigmoid()))
            .Should().Throw<ArgumentException>().WithMessage("Layer 0 (Dense(4→3)) already belongs to another network*create a new layer*");
        dense.Weights.Values.ToArray().Should().Equal(before, "the refused network did not re-initialize the layer");
        first.Layers[0].Should().BeSameAs(dense);
        // A network whose shapes do not chain claims none of its layers, so they can be used again.
        var conv = new Conv2D(1, 2, 3);
        FluentActions.Invoking(() => new Network(Shape.Image(1, 8, 8), conv, new Dense(72, 2))).Should().Throw<ArgumentException>();
        new Network(Shape.Image(1, 6, 6), conv, new Flatten(), new Dense(32, 2)).OutputShape.Should().Be(Shape.Features(2));
    }

    [Fact]
    public void Sizes_FlowThroughElementwiseLayers()
    {
        var network = new Network(new Dense(784, 30), new Sigmoid(), new Dense(30, 10), new Softmax());
        network.InputSize.Should().Be(784);
        network.OutputSize.Should().Be(10);
        network.ParameterCount.Should().Be(784 * 30 + 30 + 30 * 10 + 10);
        network.ToString().Should().Be("Dense(784→30) → Sigmoid → Dense(30→10) → Softmax");
    }

    [Fact]
    public void Initialize_IsSeeded()
    {
        float[] Weights(int seed) => new Network(seed, new Dense(5, 4), new ReLU()).Parameters[0].Values.ToArray();
        Weights(1).Should().Equal(Weights(1));
        Weights(1).Should().NotEqual(Weights(2));
    }

    [Fact]
    public void DefaultInitializer_DependsOnTheActivation()
    {
        // He normal before ReLU: variance 2/fanIn; Glorot uniform before sigmoid: variance 2/(fanIn + fanOut).
        double Variance(ILayer activation)
        {
            var network = new Network(3, new Dense(400, 300), activation);
            float[] w = network.Parameters[0].Values.ToArray();
            return w.Select(v => (double)v * v).Average();
        }
        Variance(new ReLU()).Should().BeApproximately(2.0 / 400, 2.0 / 400 * 0.03);
        Variance(new Sigmoid()).Should().BeApproximately(2.0 / 700, 2.0 / 700 * 0.03);
    }

    [Fact]
    public void StandardNormalInitializer_DrawsBiasesToo()
    {
        var network = new Network(3, new Dense(10, 1000, Initializer.StandardNormal));
        float[] b = network.Parameters[1].Values.ToArray();
        b.Select(v => (double)v * v).Average().Should().BeApproximately(1.0, 0.15);
    }

    [Fact]
    public void Predict_SingleAndBatch_Agree()
    {
        var network = new Network(5, new Dense(12, 7), new Tanh(), new Dense(7, 3), new Softmax());
        float[] inputs = Support.Rand.Floats(4 * 12, 1);
        var batch = new float[4 * 3];
        network.PredictBatch(inputs, batch, 4);
        for (int i = 0; i < 4; i++)
        {
            float[] single = network.Predict(inputs.AsSpan(i * 12, 12));
            for (int j = 0; j < 3; j++) single[j].Should().BeApproximately(batch[i * 3 + j], 1e-5f);
        }
    }

    [Fact]
    public void Predict_WrongLength_ThrowsWithSizes()
    {
        var network = new Network(new Dense(4, 2));
        FluentActions.Invoking(() => network.Predict(new float[5])).Should().Throw<ArgumentException>().WithMessage("Expected an input sample of 4 values but got 5.*");
    }

    [Fact]
    public void PredictBatch_WrongLength_ThrowsWithSizes()
    {
        var network = new Network(new Dense(4, 2));
        FluentActions.Invoking(() => network.PredictBatch(new float[11], new float[6], 3)).Should().Throw<ArgumentException>()
            .WithMessage("Expected a batch of 3 samples of 4 values (12 in all) but got 11 values.*").Which.ParamName.Should().Be("inputs");
        FluentActions.Invoking(() => network.PredictBatch(new float[12], new float[5], 3)).Should().Throw<ArgumentException>()
            .WithMessage("Expected a batch of 3 outputs of 2 values (6 in all) but got 5 values.*").Which.ParamName.Should().Be("outputs");
    }

    [Fact]
    public void PredictAndPredictBatch_AllocateNothingAfterTheFirstCall()
    {
        var network = new Network(new Dense(30, 20), new ReLU(), new Dense(20, 10), new Softmax());
        network.Initialize(3);
        float[] inputs = Rand.Floats(50 * 30, 4), outputs = new float[50 * 10], single = new float[10];
        for (int i = 0; i < 3; i++)
        {
            network.PredictBatch(inputs, outputs, 50);
            network.Predict(inputs.AsSpan(0, 30), single);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            network.PredictBatch(inputs, outputs, 50);
            network.Predict(inputs.AsSpan(0, 30), single);
        }
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void Evaluate_DatasetOfWrongWidth_NamesTheLayer()
    {
        var network = new Network(new Dense(4, 2), new Softmax());
        var data = Dataset.FromLabels(new float[6], 3, [0, 1], 2);
        FluentActions.Invoking(() => Evaluator.Evaluate(network, data, new CrossEntropyCost()))
            .Should().Throw<ArgumentException>().WithMessage("The dataset has 3 features per sample but the network expects 4 (input shape 4, first layer Dense(4→2)).*");
    }

    [Fact]
    public void DenseReluPair_IsFused_AndMatchesTheUnfusedComputation()
    {
        // LeakyReLU(0) computes the same function but is not fused: forward outputs and gradients must agree.
        var fused = new Network(3, new Dense(20, 16), new ReLU(), new Dense(16, 4), new Softmax());
        var plain = new Network(3, new Dense(20, 16), new LeakyReLU(0f), new Dense(16, 4), new Softmax());
        for (int p = 0; p < 4; p++) fused.Parameters[p].Values.CopyTo(plain.Parameters[p].Values);
        float[] x = Support.Rand.Floats(8 * 20, 5);
        float[] t = new float[8 * 4];
        for (int i = 0; i < 8; i++) t[i * 4 + i % 4] = 1f;
        foreach (Network n in new[] { fused, plain })
        {
            Network.Workspace ws = n.WorkspaceFor(8);
            x.CopyTo(ws.Inputs, 0);
            foreach (Parameter p in n.Parameters) p.ZeroGradient();
            n.ForwardInto(ws, ws.Inputs.AsSpan(0, 160), 8, training: true);
            n.Backward(ws, ws.Inputs.AsSpan(0, 160), new CrossEntropyCost(), t, 8);
        }
        for (int p = 0; p < 4; p++)
        {
            float[] a = fused.Parameters[p].Gradient.ToArray(), b = plain.Parameters[p].Gradient.ToArray();
            for (int i = 0; i < a.Length; i++) a[i].Should().BeApproximately(b[i], 1e-6f);
        }
        var ya = new float[32];
        var yb = new float[32];
        fused.PredictBatch(x, ya, 8);
        plain.PredictBatch(x, yb, 8);
        for (int i = 0; i < 32; i++) ya[i].Should().BeApproximately(yb[i], 1e-6f);
    }
}
