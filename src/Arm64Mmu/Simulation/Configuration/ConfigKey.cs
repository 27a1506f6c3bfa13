namespace Arm64Mmu.Simulation.Configuration;

/// <summary>
/// One configuration key: its name (as TOML and <c>--set</c> spell it), what it means, what it allows, how a value is
/// checked and spelled canonically, and its default (which may depend on other keys, e.g. the profile's TLB sizes).
/// </summary>
public sealed class ConfigKey
{
    internal ConfigKey(string name, string description, string allowed, Func<string, string?> normalize, Func<SimulationConfig, string> defaultValue)
    {
        Name = name;
        Description = description;
        Allowed = allowed;
        Normalize = normalize;
        DefaultValue = defaultValue;
    }

    /// <summary>The key, e.g. <c>l1d.entries</c>.</summary>
    public string Name { get; }
    /// <summary>What it sets.</summary>
    public string Description { get; }
    /// <summary>The values it allows, for messages and <c>--list-keys</c>.</summary>
    public string Allowed { get; }

    /// <summary>The canonical spelling of a value, or null when the value is not allowed.</summary>
    internal Func<string, string?> Normalize { get; }

    /// <summary>The value when the key is not set.</summary>
    internal Func<SimulationConfig, string> DefaultValue { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Allowed})";
}
