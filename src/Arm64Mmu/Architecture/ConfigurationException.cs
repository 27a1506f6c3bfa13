namespace Arm64Mmu.Architecture;

/// <summary>
/// A register value or configuration that the architecture reserves, leaves CONSTRAINED UNPREDICTABLE,
/// or that the simulated PE does not implement. The message names the register, the field, the value and what is allowed.
/// </summary>
public sealed class ConfigurationException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string register, string field, ulong value, string allowed)
        : base($"{register}.{field} = {value} (0x{value:x}) is not allowed: {allowed}")
    {
        Register = register;
        Field = field;
        Value = value;
        Allowed = allowed;
    }

    /// <summary>The register, e.g. TCR_EL1.</summary>
    public string Register { get; }
    /// <summary>The field, e.g. T0SZ.</summary>
    public string Field { get; }
    /// <summary>The offending value of the field.</summary>
    public ulong Value { get; }
    /// <summary>What the field may hold.</summary>
    public string Allowed { get; }
}
