using System.CommandLine;
using System.CommandLine.Invocation;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// The action of the simulation commands. Parse errors never reach it (<see cref="CliRunner"/> reports them, exit 2);
/// an unreadable input or an unusable configuration — a malformed trace, a bad key or value, memory exhausted, a
/// shard file that does not merge — is reported the same way: one line <c>arm64mmu: error: …</c>, exit 2.
/// </summary>
internal sealed class CheckedAction(Func<ParseResult, int> run) : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        try
        {
            return run(parseResult);
        }
        catch (Exception e) when (e is SimulationConfigException or TraceInputException or SimulationException or FormatException)
        {
            return CliRunner.UsageError(e.Message);
        }
    }
}
