using NeuralDescent.Costs;
using NeuralDescent.Initialization;
using NeuralDescent.Layers;
using NeuralDescent.Randomness;
using NeuralDescent.Tests.Support;

namespace NeuralDescent.Tests.Layers;

/// <summary>
/// Backpropagation against central finite differences, one table row per layer or cost.
/// </summary>
/// <remarks>
/// The objective is L = Σ r ⊙ layer(x) for a fixed random r, so backward receives ∂L/∂output = r.
/// Forward passes run in float32, so the difference quotient (L(θ+h) − L(θ−h)) / 2h carries a rounding error of
/// about ε₃₂·|L|/h ≈ 6e-8·10/1e-2 ≈ 6e-5 plus a truncation error O(h²·L‴) ≈ 1e-4 for these smooth, O(1)-scaled
/// functions; the tolerance |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric| sits an order of magnitude above both and
/// far below the size of any real bug (a wrong sign, a missing factor, a transposed index).
/// Inputs for ReLU-like layers stay at least 0.1 from the kink, beyond the step h.
/// </remarks>
public class GradientCheckTests
{
    private const double Step = 1e-2;

    /// <summary>Every layer, as built for the check, with the shape of one input sample.</summary>
    private static readonly Dictionary<string, (Func<ILayer> Create, Shape Input)> Cases = new()
    {
        ["Dense"] = (() => new Dense(7, 5), Shape.Features(7)),
        ["Sigmoid"] = (() => new Sigmoid(), Shape.Features(6)),
        ["Tanh"] = (() => new Tanh(), Shape.Features(6)),
        ["ReLU"] = (() => new ReLU(), Shape.Features(6)),
        ["LeakyReLU"] = (() => new LeakyReLU(0.2f), Shape.Features(6)),
        ["Softmax"] = (() => new Softmax(), Shape.Features(6)),
        // The mask is drawn on the first training forward pass and then frozen, so the layer is a fixed function.
        ["Dropout"] = (() => new Dropout(0.4f) { FreezeMask = true }, Shape.Features(6)),
        ["DropoutOnChannels"] = (() => new Dropout(0.4f) { FreezeMask = true }, Shape.Image(2, 3, 4)),
        ["Standardize"] = (() => new Standardize([0.5f, -1f, 0f, 2f, 0.1f, 0f], [2f, 0.5f, 1f, 3f, 0.25f, 1f]), Shape.Features(6)),
        ["Conv2D"] = (() => new Conv2D(2, 3, 3), Shape.Image(2, 5, 6)),
        ["Conv2DStridePadding"] = (() => new Conv2D(2, 3, 3, stride: 2, padding: 1), Shape.Image(2, 6, 5)),
        // 3 × 3, stride 1, four or more input channels: Winograd's F(2×2, 3×3), odd output sizes included.
        ["Conv2DWinograd"] = (() => new Conv2D(4, 3, 3), Shape.Image(4, 5, 6)),
        ["Conv2DWinogradPadding"] = (() => new Conv2D(5, 2, 3, padding: 1), Shape.Image(5, 4, 5)),
        ["Conv2DWinogradPadding2"] = (() => new Conv2D(4, 2, 3, padding: 2), Shape.Image(4, 3, 4)),
        // More than 16 output channels and patch entries: ∂C/∂W from patch panels read straight from the input.
        ["Conv2DWideStride"] = (() => new Conv2D(3, 18, 3, stride: 2, padding: 1), Shape.Image(3, 7, 6)),
        ["Conv2DWidePadding"] = (() => new Conv2D(2, 17, 3, padding: 1), Shape.Image(2, 5, 11)),
        ["Conv2D1x1"] = (() => new Conv2D(3, 2, 1), Shape.Image(3, 2, 3)),
        ["MaxPool2D"] = (() => new MaxPool2D(2), Shape.Image(2, 4, 6)),
        ["MaxPool2DOverlapping"] = (() => new MaxPool2D(3, stride: 2), Shape.Image(1, 5, 7)),
        ["AvgPool2D"] = (() => new AvgPool2D(2), Shape.Image(2, 4, 6)),
        ["AvgPool2DOverlapping"] = (() => new AvgPool2D(3, stride: 1), Shape.Image(2, 4, 5)),
        ["GlobalAvgPool2D"] = (() => new GlobalAvgPool2D(), Shape.Image(3, 3, 4)),
        ["Flatten"] = (() => new Flatten(), Shape.Image(2, 3, 2)),
        ["BatchNormFeatures"] = (() => new BatchNorm(5), Shape.Features(5)),
        ["BatchNormChannels"] = (() => new BatchNorm(3), Shape.Image(3, 2, 3)),
    };

    public static TheoryData<string> LayerNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(LayerNames))]
    public void Layer_InputAndParameterGradients_MatchFiniteDifferences(string name)
    {
        (Func<ILayer> create, Shape inputShape) = Cases[name];
        ILayer layer = create();
        Shape outputShape = layer.Connect(inputShape);
        layer.Initialize(new RandomGenerator(1), null);
        if (layer is BatchNorm norm)
        {
            // γ and β away from 1 and 0, so a missing factor of either shows.
            Rand.Floats(norm.Features, 9, 0.5f, 1.5f).CopyTo(norm.Scale.Values);
            Rand.Floats(norm.Features, 10).CopyTo(norm.Shift.Values);
        }
        const int batch = 3;
        int inWidth = inputShape.Size, outWidth = outputShape.Size;
        // Distinct inputs at least 0.05 apart, so a max-pooling window's winner does not change within ±h.
        float[] x = Rand.Distinct(batch * inWidth, 2, spacing: 0.05f);
        float[] r = Rand.Floats(batch * outWidth, 3);
        var y = new float[batch * outWidth];
        var dx = new float[x.Length];

        layer.Forward(x, y, batch, training: true);
        foreach (Parameter p in layer.Parameters) p.ZeroGradient();
        layer.Backward(x, y, r, dx, batch);

        double Objective()
        {
            var output = new float[batch * outWidth];
            layer.Forward(x, output, batch, training: true);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += (double)r[i] * output[i];
            return sum;
        }

        for (int i = 0; i < x.Length; i++) AssertClose(Numeric(x, i, Objective), dx[i], $"{name} ∂L/∂x[{i}]");
        foreach (Parameter p in layer.Parameters)
        {
            float[] analytic = p.Gradient.ToArray();
            for (int i = 0; i < p.Length; i++)
            {
                double numeric = NumericOnSpan(p, i, Objective);
                AssertClose(numeric, analytic[i], $"{name} ∂L/∂{p.Name}[{i}]");
            }
        }
    }

    [Fact]
    public void BatchNorm_InferenceBackward_MatchesFiniteDifferences()
    {
        var layer = new BatchNorm(2);
        layer.Connect(Shape.Image(2, 2, 2));
        layer.Initialize(new RandomGenerator(1), null);
        var warm = Rand.Floats(4 * 8, 5);
        layer.Forward(warm, new float[warm.Length], 4, training: true); // moves the running statistics off 0 and 1
        Rand.Floats(2, 6, 0.5f, 1.5f).CopyTo(layer.Scale.Values);
        const int batch = 2;
        float[] x = Rand.Floats(batch * 8, 7);
        float[] r = Rand.Floats(batch * 8, 8);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        layer.Forward(x, y, batch, training: false);
        layer.Backward(x, y, r, dx, batch);
        double Objective()
        {
            var output = new float[x.Length];
            layer.Forward(x, output, batch, training: false);
            return output.Select((v, i) => (double)r[i] * v).Sum();
        }
        for (int i = 0; i < x.Length; i++) AssertClose(Numeric(x, i, Objective), dx[i], $"BatchNorm inference ∂L/∂x[{i}]");
    }

    public static TheoryData<string> CostNames() => new() { "Quadratic", "CrossEntropy", "BinaryCrossEntropy" };

    private static ICostFunction CreateCost(string name) => name switch
    {
        "Quadratic" => new QuadraticCost(),
        "CrossEntropy" => new CrossEntropyCost(),
        "BinaryCrossEntropy" => new BinaryCrossEntropyCost(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(CostNames))]
    public void Cost_Gradient_MatchesFiniteDifferences(string name)
    {
        ICostFunction cost = CreateCost(name);
        const int batch = 4, width = 5;
        // Outputs as probabilities in [0.2, 0.8], targets one-hot (cross-entropy) or in [0, 1].
        float[] a = Rand.Floats(batch * width, 5, 0.2f, 0.8f);
        float[] t = name == "CrossEntropy" ? OneHot(batch, width) : Rand.Floats(batch * width, 6, 0f, 1f);
        var g = new float[a.Length];
        cost.Gradient(a, t, g, batch);
        for (int i = 0; i < a.Length; i++)
            AssertClose(Numeric(a, i, () => cost.Value(a, t, batch)), g[i], $"{name} ∂C/∂a[{i}]");
    }

    [Theory]
    [InlineData("CrossEntropy")]
    [InlineData("BinaryCrossEntropy")]
    [InlineData("Quadratic")]
    public void Network_FullBackward_MatchesFiniteDifferencesOfTheLoss(string costName)
    {
        ICostFunction cost = CreateCost(costName);
        ILayer output = costName == "CrossEntropy" ? new Softmax() : new Sigmoid();
        var network = new Network(4, new Dense(6, 5), new Tanh(), new Dense(5, 4, Initializer.GlorotNormal), output);
        const int batch = 3;
        float[] x = Rand.Floats(batch * 6, 7);
        float[] t = costName == "CrossEntropy" ? OneHot(batch, 4) : Rand.Floats(batch * 4, 8, 0f, 1f);
        Network.Workspace ws = network.WorkspaceFor(batch);
        x.CopyTo(ws.Inputs, 0);
        foreach (Parameter p in network.Parameters) p.ZeroGradient();
        network.ForwardInto(ws, x, batch, training: true);
        network.Backward(ws, x, cost, t, batch);

        double Loss()
        {
            network.ForwardInto(ws, x, batch, training: true);
            return network.LossOf(ws, cost, t, batch);
        }

        foreach (Parameter p in network.Parameters)
        {
            float[] analytic = p.Gradient.ToArray();
            for (int i = 0; i < p.Length; i++) AssertClose(NumericOnSpan(p, i, Loss), analytic[i], $"{costName} network ∂C/∂{p}[{i}]");
        }
    }

    private static float[] OneHot(int batch, int width)
    {
        var t = new float[batch * width];
        for (int b = 0; b < batch; b++) t[b * width + (b * 3 + 1) % width] = 1f;
        return t;
    }

    private static double Numeric(float[] values, int i, Func<double> f)
    {
        float saved = values[i];
        values[i] = (float)(saved + Step);
        double plus = f();
        values[i] = (float)(saved - Step);
        double minus = f();
        values[i] = saved;
        // Use the step actually taken after float rounding.
        return (plus - minus) / ((double)(float)(saved + Step) - (float)(saved - Step));
    }

    private static double NumericOnSpan(Parameter p, int i, Func<double> f)
    {
        float saved = p.Values[i];
        float up = (float)(saved + Step), down = (float)(saved - Step);
        p.Values[i] = up;
        double plus = f();
        p.Values[i] = down;
        double minus = f();
        p.Values[i] = saved;
        return (plus - minus) / ((double)up - down);
    }

    private static void AssertClose(double numeric, double analytic, string what)
    {
        double tolerance = 2e-3 + 2e-2 * Math.Abs(numeric);
        if (Math.Abs(numeric - analytic) > tolerance)
            Assert.Fail($"{what}: backprop {analytic:G6} vs finite difference {numeric:G6} (tolerance {tolerance:G3}).");
    }
}
