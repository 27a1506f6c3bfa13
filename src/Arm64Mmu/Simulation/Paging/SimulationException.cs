namespace Arm64Mmu.Simulation;

/// <summary>
/// A simulation that cannot go on with the inputs it was given: physical memory or table memory exhausted, an address
/// outside the configured VA ranges. The message says what ran out or what was out of range and what to change.
/// </summary>
public sealed class SimulationException(string message) : Exception(message);
