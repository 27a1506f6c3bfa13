using System.CommandLine;
using Arm64Mmu.Cli;

var root = new RootCommand("arm64mmu: an ARMv8-A MMU simulator — translation walks, AT/PAR conformance, TLBs and break-before-make checking. Exit status: 0 success, 1 findings (violations, failed queries), 2 usage or input error, 3 internal error");
root.Subcommands.Add(ConformanceCommand.Create());
root.Subcommands.Add(WalkCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(Arm64Mmu.Cli.Litmus.LitmusCommand.Create());
Arm64Mmu.Cli.Simulation.SimulationCommands.Register(root);

return CliRunner.Run(root, args);
