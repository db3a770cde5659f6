using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Tests.Optimizers;

/// <summary>
/// Three steps of each update rule on a parameter whose even elements start at 1 and odd ones at −0.5, with the
/// gradient sequences (0.5, −0.3, 0.1) and (−0.2, 0.4, 0.1). The expected values were computed by hand (in double,
/// step by step from each rule's formula as PyTorch documents it), e.g. momentum on the even elements:
/// b = 0.5, θ = 0.95; b = 0.15, θ = 0.935; b = 0.235, θ = 0.9115.
/// Length 11 covers both the vector body and the scalar tail of the kernels.
/// </summary>
public class OptimizerRuleTests
{
    private static readonly float[][] Gradients = [[0.5f, -0.2f], [-0.3f, 0.4f], [0.1f, 0.1f]];

    public static TheoryData<string, double, double> Cases() => new()
    {
        { "momentum", 0.9115, -0.5318 },
        { "nesterov", 0.89035, -0.55862 },
        { "momentum-wd", 0.857474, -0.5043475 },
        { "adagrad", 0.9345464904622159, -0.511264508148829 },
        { "rmsprop", 0.9345930303571177, -0.5114796739776825 },
        { "adam", 0.9855453680616368, -0.49781754749638346 },
        { "adam-wd", 0.9811556430243386, -0.49459487026404747 },
        { "adamw", 0.9825702720415429, -0.49633537596022936 },
    };

    private static IOptimizer Create(string name) => name switch
    {
        "momentum" => new Momentum(0.1f, 0.9f),
        "nesterov" => new Momentum(0.1f, 0.9f, nesterov: true),
        "momentum-wd" => new Momentum(0.1f, 0.9f, weightDecay: 0.1f),
        "adagrad" => new AdaGrad(0.1f),
        "rmsprop" => new RmsProp(0.01f),
        "adam" => new Adam(0.01f),
        "adam-wd" => new Adam(0.01f, weightDecay: 0.1f),
        "adamw" => new AdamW(0.01f, weightDecay: 0.1f),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThreeSteps_MatchHandComputedValues(string name, double even, double odd)
    {
        IOptimizer optimizer = Create(name);
        var p = new Parameter("w", 1, 11);
        for (int i = 0; i < 11; i++) p.Values[i] = i % 2 == 0 ? 1f : -0.5f;
        foreach (float[] g in Gradients)
        {
            for (int i = 0; i < 11; i++) p.Gradient[i] = g[i % 2];
            optimizer.Step([p]);
        }
        for (int i = 0; i < 11; i++) ((double)p.Values[i]).Should().BeApproximately(i % 2 == 0 ? even : odd, 2e-6, $"{name}, element {i}");
    }

    [Fact]
    public void Adam_FirstStep_MovesByTheLearningRate()
    {
        var p = new Parameter("w", 1, 3);
        p.Gradient[0] = 1e-3f;
        p.Gradient[1] = -50f;
        var adam = new Adam(0.01f);
        adam.Step([p]);
        p.Values.ToArray().Should().BeEquivalentTo(new[] { -0.01f, 0.01f, 0f }, o => o.WithStrictOrdering()
            .Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        adam.StepCount.Should().Be(1);
        adam.GetState(p).Should().HaveCount(2);
        adam.StateNames.Should().Equal("exp_avg", "exp_avg_sq");
    }

    [Fact]
    public void State_IsPerParameter_AndCreatedLazily()
    {
        var a = new Parameter("a", 1, 2);
        var b = new Parameter("b", 1, 2);
        var momentum = new Momentum(0.1f);
        momentum.GetState(a).Should().BeEmpty();
        a.Gradient.Fill(1f);
        momentum.Step([a]);
        momentum.GetState(a)[0].ToArray().Should().Equal(1f, 1f);
        momentum.GetState(b).Should().BeEmpty();
    }

    private sealed class OneBufferOptimizer() : StatefulOptimizer(0.1f)
    {
        public Exception? Caught { get; private set; }

        public int Seen { get; private set; }

        public override string Name => "one-buffer";

        public override IReadOnlyList<string> StateNames => ["trace"];

        protected override void Update(Span<float> values, ReadOnlySpan<float> gradient, OptimizerStateRange state, long step)
        {
            Seen = state.Count;
            state[0][0] += gradient[0];
            try
            {
                _ = state[1];
            }
            catch (ArgumentOutOfRangeException e)
            {
                Caught = e;
            }
        }
    }

    [Fact]
    public void StateRange_OfACustomOptimizer_HoldsItsBuffers_AndNamesABadIndex()
    {
        var p = new Parameter("w", 1, 2);
        p.Gradient[0] = 3f;
        var optimizer = new OneBufferOptimizer();
        optimizer.Step([p]);
        optimizer.Seen.Should().Be(1);
        optimizer.GetState(p)[0].Span[0].Should().Be(3f);
        optimizer.Caught.Should().BeOfType<ArgumentOutOfRangeException>().Which.Message.Should().Contain("1 state buffer");
    }

    [Fact]
    public unsafe void StateBuffers_StartOnCacheLines_AndAreTheLiveState()
    {
        // Full-width loads and stores of the update then never straddle two cache lines, as with the parameter itself.
        var p = new Parameter("w", 7, 5);
        p.Gradient.Fill(0.5f);
        var adam = new Adam(0.01f);
        adam.Step([p]);
        IReadOnlyList<Memory<float>> state = adam.GetState(p);
        state.Should().HaveCount(2);
        foreach (Memory<float> buffer in state)
        {
            buffer.Length.Should().Be(35);
            fixed (float* start = buffer.Span) ((nuint)start % 64).Should().Be(0u);
        }
        state[0].Span[3].Should().BeApproximately(0.05f, 1e-7f, "m = (1 − β₁)·g after one step");
        state[0].Span[3] = 2f;
        adam.GetState(p)[0].Span[3].Should().Be(2f, "GetState returns the buffers the optimizer updates, not copies");
    }

    [Theory]
    [InlineData("momentum")]
    [InlineData("beta1")]
    [InlineData("beta2")]
    [InlineData("epsilon")]
    [InlineData("weightDecay")]
    public void Constructors_RejectBadHyperparameters(string parameter)
    {
        Action create = parameter switch
        {
            "momentum" => () => _ = new Momentum(0.1f, momentum: 1f),
            "beta1" => () => _ = new Adam(beta1: -0.1f),
            "beta2" => () => _ = new AdamW(beta2: 1f),
            "epsilon" => () => _ = new RmsProp(epsilon: 0f),
            _ => () => _ = new AdaGrad(weightDecay: -1f),
        };
        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);
    }
}
