using System.CommandLine;
using System.CommandLine.Invocation;
using Arm64Mmu.Simulation;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// The action of the simulation commands: a usage error (a parse error, an unknown option or argument, a bad value)
/// and an unreadable input (a malformed trace, a bad configuration) print one line to stderr and exit 2 — the parse
/// errors are taken over from System.CommandLine (which would exit 1) by clearing them here.
/// </summary>
internal sealed class CheckedAction(string command, Func<ParseResult, int> run) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        if (parseResult.Errors.Count > 0) return Usage(parseResult.Errors[0].Message);
        if (parseResult.UnmatchedTokens.Count > 0)
        {
            string t = parseResult.UnmatchedTokens[0];
            return Usage(t.StartsWith('-') ? $"unknown option '{t}'" : $"unexpected argument '{t}'");
        }
        try
        {
            return run(parseResult);
        }
        catch (Exception e) when (e is CliException or SimulationConfigException or TraceInputException or SimulationException or FormatException)
        {
            Console.Error.WriteLine($"arm64mmu {command}: error: {e.Message}");
            return 2;
        }
    }

    private int Usage(string message)
    {
        Console.Error.WriteLine($"arm64mmu {command}: error: {message}");
        Console.Error.WriteLine($"see 'arm64mmu {command} --help'");
        return 2;
    }
}
