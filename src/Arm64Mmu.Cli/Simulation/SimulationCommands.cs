using System.CommandLine;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>The trace-driven simulation commands: <c>simulate</c>, <c>sweep</c> (with <c>sweep merge</c>) and <c>convert-trace</c>.</summary>
internal static class SimulationCommands
{
    public static void Register(RootCommand root)
    {
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(ConvertTraceCommand.Create());
    }
}
