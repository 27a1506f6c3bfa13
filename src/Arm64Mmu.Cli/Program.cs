using System.CommandLine;
using Arm64Mmu.Architecture;
using Arm64Mmu.Cli;
using Arm64Mmu.Cli.Conformance;

var root = new RootCommand("arm64mmu: an ARMv8-A MMU simulator — translation walks, AT/PAR conformance, TLBs and break-before-make checking");
root.Subcommands.Add(ConformanceCommand.Create());
root.Subcommands.Add(WalkCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(Arm64Mmu.Cli.Litmus.LitmusCommand.Create());

try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is CliException or VectorFormatException or ConfigurationException)
{
    Console.Error.WriteLine($"arm64mmu: error: {e.Message}");
    return 2;
}

namespace Arm64Mmu.Cli
{
    /// <summary>A user error the CLI reports in one line, exiting with status 2.</summary>
    public sealed class CliException(string message) : Exception(message);
}
