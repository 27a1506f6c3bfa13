using BenchmarkDotNet.Configs;

namespace Arm64Mmu.BenchmarkDotNet;

/// <summary>Adds the simulated-cycle columns (<see cref="SimulatedCyclesColumnProvider"/>) to a benchmark class.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class SimulatedCyclesColumnsAttribute : Attribute, IConfigSource
{
    /// <summary>Creates the attribute.</summary>
    public SimulatedCyclesColumnsAttribute() => Config = ManualConfig.CreateEmpty().AddColumnProvider(new SimulatedCyclesColumnProvider());

    /// <inheritdoc/>
    public IConfig Config { get; }
}
