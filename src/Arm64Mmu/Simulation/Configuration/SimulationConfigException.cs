namespace Arm64Mmu.Simulation.Configuration;

/// <summary>
/// A configuration that cannot be used: an unknown key, a bad value, or values that do not fit together. The message
/// names where the setting came from (a TOML file and line, or <c>--set</c>), the key and what is allowed.
/// </summary>
public sealed class SimulationConfigException(string message) : Exception(message);
