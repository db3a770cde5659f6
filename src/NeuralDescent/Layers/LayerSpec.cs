using System.Globalization;

namespace NeuralDescent.Layers;

/// <summary>
/// What it takes to rebuild a layer: a type name and numeric hyperparameters, such as
/// <c>Dense {in: 784, out: 128}</c>. Saved as a JSON object in a model file's architecture.
/// </summary>
/// <remarks>Tensors are not part of the spec: they are saved and restored by the names of the layer's
/// <see cref="ILayer.Parameters"/> and <see cref="ILayer.State"/>.</remarks>
public sealed class LayerSpec
{
    private readonly Dictionary<string, double> _attributes = new(StringComparer.Ordinal);

    /// <summary>Creates a spec with no attributes.</summary>
    /// <param name="type">The type name registered with <c>Serialization.LayerRegistry</c>, e.g. <c>Dense</c>.</param>
    public LayerSpec(string type)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (type == "type") throw new ArgumentException("'type' is reserved.", nameof(type));
        Type = type;
    }

    /// <summary>The registered type name.</summary>
    public string Type { get; }

    /// <summary>The hyperparameters by name, in the order they were set.</summary>
    public IReadOnlyDictionary<string, double> Attributes => _attributes;

    /// <summary>Sets a hyperparameter; returns this spec, so calls chain.</summary>
    /// <param name="name">Its name (not <c>type</c>).</param>
    /// <param name="value">A finite value.</param>
    /// <returns>This spec.</returns>
    public LayerSpec With(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "type") throw new ArgumentException("'type' is reserved for the layer type.", nameof(name));
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, $"Attribute '{name}' must be finite.");
        _attributes[name] = value;
        return this;
    }

    /// <summary>A whole-number hyperparameter within [<paramref name="min"/>, int.MaxValue].</summary>
    /// <param name="name">Its name.</param>
    /// <param name="min">The smallest value allowed; default 1.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">It is missing, not whole, or out of range; the message names the layer type and the attribute.</exception>
    public int GetInt(string name, int min = 1)
    {
        double v = Get(name);
        if (v != Math.Floor(v) || v < min || v > int.MaxValue)
            throw new ArgumentException($"{Type}: attribute '{name}' = {v.ToString(CultureInfo.InvariantCulture)} is not a whole number of at least {min}.");
        return (int)v;
    }

    /// <summary>A float hyperparameter.</summary>
    /// <param name="name">Its name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">It is missing or outside float's range.</exception>
    public float GetFloat(string name)
    {
        double v = Get(name);
        if (!float.IsFinite((float)v)) throw new ArgumentException($"{Type}: attribute '{name}' = {v.ToString(CultureInfo.InvariantCulture)} is outside float's range.");
        return (float)v;
    }

    private double Get(string name)
        => _attributes.TryGetValue(name, out double v) ? v : throw new ArgumentException($"{Type}: attribute '{name}' is missing.");

    /// <inheritdoc />
    public override string ToString()
        => $"{Type} {{{string.Join(", ", _attributes.Select(a => $"{a.Key}: {a.Value.ToString("R", CultureInfo.InvariantCulture)}"))}}}";
}
