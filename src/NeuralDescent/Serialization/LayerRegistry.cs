using System.Collections.Concurrent;
using NeuralDescent.Layers;

namespace NeuralDescent.Serialization;

/// <summary>
/// Maps the layer type names found in model files and checkpoints (<see cref="LayerSpec.Type"/>) to factories that
/// rebuild the layers, Keras's <c>from_config</c> in C#. Every built-in layer is registered; register your own layer
/// once (at start-up) to save, load and checkpoint networks that use it.
/// </summary>
/// <remarks>
/// A factory gets the spec that the layer's <see cref="ILayer.Describe"/> gave and returns a new layer of the same
/// shape; its tensors (<see cref="ILayer.Parameters"/> and <see cref="ILayer.State"/>) are filled in afterwards by name.
/// It throws <see cref="ArgumentException"/> for a spec it cannot build (the loader reports it as an
/// <see cref="InvalidDataException"/> naming the file and the layer). Thread-safe.
/// </remarks>
public static class LayerRegistry
{
    private static readonly ConcurrentDictionary<string, Func<LayerSpec, ILayer>> Factories = new(StringComparer.Ordinal);
    private static readonly HashSet<string> BuiltIn;

    static LayerRegistry()
    {
        Factories["Dense"] = s => new Dense(s.GetInt("in"), s.GetInt("out"));
        Factories["Conv2D"] = s => new Conv2D(s.GetInt("in_channels"), s.GetInt("out_channels"), s.GetInt("kernel"), s.GetInt("stride"), s.GetInt("padding", min: 0));
        Factories["MaxPool2D"] = s => new MaxPool2D(s.GetInt("kernel"), s.GetInt("stride"));
        Factories["AvgPool2D"] = s => new AvgPool2D(s.GetInt("kernel"), s.GetInt("stride"));
        Factories["GlobalAvgPool2D"] = _ => new GlobalAvgPool2D();
        Factories["Flatten"] = _ => new Flatten();
        Factories["BatchNorm"] = s => new BatchNorm(s.GetInt("features"), s.GetFloat("momentum"), s.GetFloat("epsilon"));
        Factories["Standardize"] = s => new Standardize(s.GetInt("size"));
        Factories["LeakyReLU"] = s => new LeakyReLU(s.GetFloat("slope"));
        Factories["Dropout"] = s => new Dropout(s.GetFloat("rate"));
        Factories["ReLU"] = _ => new ReLU();
        Factories["Sigmoid"] = _ => new Sigmoid();
        Factories["Tanh"] = _ => new Tanh();
        Factories["Softmax"] = _ => new Softmax();
        Factories["Step"] = _ => new Step();
        BuiltIn = [.. Factories.Keys];
    }

    /// <summary>Registers (or replaces) the factory of a user-defined layer type.</summary>
    /// <param name="type">The <see cref="LayerSpec.Type"/> the layer's <see cref="ILayer.Describe"/> gives.</param>
    /// <param name="factory">Builds a layer from its spec.</param>
    /// <exception cref="ArgumentException"><paramref name="type"/> is empty or names a built-in layer.</exception>
    public static void Register(string type, Func<LayerSpec, ILayer> factory)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltIn.Contains(type)) throw new ArgumentException($"'{type}' is a built-in layer type and cannot be registered again.", nameof(type));
        Factories[type] = factory;
    }

    /// <summary>Whether a factory is registered for <paramref name="type"/>.</summary>
    /// <param name="type">A layer type name.</param>
    /// <returns>True when models with that layer type can be loaded.</returns>
    public static bool IsRegistered(string type) => Factories.ContainsKey(type);

    /// <summary>Builds the layer a spec describes.</summary>
    /// <exception cref="ArgumentException">No factory is registered for the type, or the factory refused the spec.</exception>
    internal static ILayer Create(LayerSpec spec)
    {
        if (!Factories.TryGetValue(spec.Type, out Func<LayerSpec, ILayer>? factory))
            throw new ArgumentException($"unknown layer type '{spec.Type}' (register it with LayerRegistry.Register)");
        return factory(spec) ?? throw new ArgumentException($"the factory of '{spec.Type}' returned null");
    }
}
