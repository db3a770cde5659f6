using System.Reflection;
using NeuralDescent.Costs;
using NeuralDescent.Layers;
using NeuralDescent.Optimizers;

namespace NeuralDescent.Tests.Training;

/// <summary>
/// The methods a training step calls for every batch are compiled optimized at their first call
/// (<c>MethodImplOptions.AggressiveOptimization</c>): under tiered compilation, unmarked ones start unoptimized and are
/// recompiled on a background thread that takes a core from a kernel thread in the middle of the first epoch.
/// </summary>
public class FirstCallOptimizationTests
{
    private static readonly Assembly Library = typeof(Network).Assembly;

    private static IEnumerable<Type> Implementations<T>() =>
        Library.GetTypes().Where(t => typeof(T).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false });

    /// <summary>The methods of <paramref name="type"/> that implement <paramref name="contract"/>'s members named <paramref name="names"/>.</summary>
    private static IEnumerable<MethodInfo> Implementing(Type type, Type contract, params string[] names)
    {
        if (!contract.IsAssignableFrom(type)) yield break;
        InterfaceMapping map = type.GetInterfaceMap(contract);
        for (int i = 0; i < map.InterfaceMethods.Length; i++)
        {
            if (names.Contains(map.InterfaceMethods[i].Name)) yield return map.TargetMethods[i];
        }
    }

    private static bool Optimized(MethodInfo method) =>
        (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0;

    [Fact]
    public void PerBatchMethods_OfEveryBuiltInLayerCostAndOptimizer_AreOptimizedFromTheFirstCall()
    {
        var methods = new List<MethodInfo>();
        foreach (Type layer in Implementations<ILayer>())
        {
            methods.AddRange(Implementing(layer, typeof(ILayer), nameof(ILayer.Forward), nameof(ILayer.Backward)));
            methods.AddRange(Implementing(layer, typeof(IFusesActivation), nameof(IFusesActivation.ForwardFused), nameof(IFusesActivation.BackwardFused)));
            methods.AddRange(Implementing(layer, typeof(IFusesPooling), nameof(IFusesPooling.ForwardFusedThrough), nameof(IFusesPooling.BackwardFusedThrough), nameof(IFusesPooling.BackwardFusedThroughCodes)));
            methods.AddRange(Implementing(layer, typeof(IFusablePooling), nameof(IFusablePooling.BackwardThroughRelu), nameof(IFusablePooling.BackwardFromWindowCodes)));
            // An activation's own formulas, behind ActivationLayer's Forward and Backward.
            foreach (string name in new[] { "Apply", "ApplyTraining", "Derive" })
            {
                MethodInfo? own = layer.GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
                if (own is not null) methods.Add(own);
            }
        }
        foreach (Type cost in Implementations<ICostFunction>())
        {
            methods.AddRange(Implementing(cost, typeof(ICostFunction), nameof(ICostFunction.Value), nameof(ICostFunction.Gradient)));
            methods.AddRange(Implementing(cost, typeof(IFusedOutputCost), nameof(IFusedOutputCost.ValueFromLogits), nameof(IFusedOutputCost.LogitGradient)));
        }
        foreach (Type optimizer in Library.GetTypes().Where(t => t.IsSubclassOf(typeof(StatefulOptimizer))))
        {
            MethodInfo? update = optimizer.GetMethod("Update", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (update is not null) methods.Add(update);
        }

        methods.Should().HaveCountGreaterThan(40, "every built-in layer, cost and optimizer is looked at");
        methods.Select(m => m.DeclaringType!.Name).Should().Contain(["Dense", "Conv2D", "Pool2D", "Softmax", "Dropout", "CrossEntropyCost", "Adam", "Sgd"]);
        methods.Where(m => !Optimized(m)).Select(m => $"{m.DeclaringType!.Name}.{m.Name}").Should().BeEmpty();
    }
}
