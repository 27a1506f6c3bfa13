using System.CommandLine;
using Arm64Mmu.Setups;
using Arm64Mmu.Memory;
using Arm64Mmu.Cli.Conformance;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli;

internal static class WalkCommand
{
    public static Command Create()
    {
        var example = new Option<string?>("--example") { Description = $"a built-in configuration: {string.Join(", ", ExampleSetups.Names)} (default nested-4k-48x48)" };
        var vectors = new Option<string?>("--vectors") { Description = "a vector file (arm64mmu-conformance/1) holding the register and memory setup" };
        var caseName = new Option<string?>("--case") { Description = "the case of --vectors to use (default: the first)" };
        var query = new Option<int?>("--query") { Description = "explain query N of the case (default: every query)" };
        var op = new Option<string?>("--op") { Description = $"AT operation to run instead of the case's queries ({AtOperations.AllNames})" };
        var va = new Option<string?>("--va") { Description = "input address for --op (hex 0x... or decimal)" };
        var limits = InputLimits.ForVectors();
        var cmd = new Command("walk", "Explain a translation table walk step by step (level, table, index, descriptor, decoded fields, PAR_EL1)")
        {
            example, vectors, caseName, query, op, va,
        };
        foreach (var o in limits.All()) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(example), pr.GetValue(vectors), pr.GetValue(caseName), pr.GetValue(query), pr.GetValue(op), pr.GetValue(va), limits.Vectors(pr)));
        return cmd;
    }

    private static int Run(string? example, string? vectorsPath, string? caseName, int? query, string? opName, string? vaText, VectorLimits limits)
    {
        if (vectorsPath is not null) InputFile.Require(vectorsPath, "--vectors");
        AtOperation? op = null;
        if (opName is not null)
            op = AtOperations.Parse(opName) ?? throw new CliException($"--op {opName} is not an AT operation (allowed: {AtOperations.AllNames})");
        ulong? va = null;
        if (vaText is not null)
        {
            if (!VectorFile.TryParseHex(vaText, out ulong v)) throw new CliException($"--va {vaText} is not an address (use 0x... hex or decimal, up to 64 bits)");
            va = v;
        }
        if ((op is null) != (va is null)) throw new CliException("--op and --va go together");
        if (vectorsPath is not null && example is not null) throw new CliException("use either --vectors or --example, not both");

        if (vectorsPath is not null)
        {
            var file = VectorFile.Load(vectorsPath, limits);
            if (file.Cases.Count == 0) throw new CliException($"{vectorsPath} has no cases");
            var c = caseName is null ? file.Cases[0] : file.Cases.FirstOrDefault(x => x.Name == caseName)
                ?? throw new CliException($"case '{VectorFile.Label(caseName)}' is not in {vectorsPath} (it has {file.Cases.Count} cases, e.g. {VectorFile.Label(file.Cases[0].Name)})");
            var t = ConformanceRunner.Prepare(c, file.Features);
            Console.WriteLine($"case {CliRunner.OneLine(VectorFile.Label(c.Name))}: {CliRunner.OneLine(c.Description, 400)}");
            if (op is not null)
            {
                Console.Write(WalkExplanation.Explain(t, op.Value, new VirtualAddress(va!.Value)));
                return 0;
            }
            if (query is { } n && (n < 0 || n >= c.Queries.Count)) throw new CliException($"--query {n}: the case has queries 0 to {c.Queries.Count - 1}");
            for (int i = 0; i < c.Queries.Count; i++)
            {
                if (query is { } k && k != i) continue;
                var q = c.Queries[i];
                Console.Write($"[{i}] ");
                Console.Write(WalkExplanation.Explain(t, q.Op, new VirtualAddress(q.Va)));
                if (q.Par is { } exp)
                {
                    ulong got = t.At(q.Op, new VirtualAddress(q.Va)).Value;
                    Console.WriteLine($"  expected {new Architecture.Par(exp)} -> {(ConformanceRunner.Matches(q, got) ? "match" : "MISMATCH")}");
                }
                Console.WriteLine();
            }
            return 0;
        }

        ExampleSetup setup;
        try { setup = ExampleSetups.Create(example ?? "nested-4k-48x48"); }
        catch (ArgumentException e) { throw new CliException("--example: " + e.Message.Split(" (Parameter")[0]); }
        Console.WriteLine($"example {setup.Name}: {setup.Description}");
        Console.Write(WalkExplanation.Explain(setup.Translator, op ?? setup.Operation, va is { } given ? new VirtualAddress(given) : setup.VirtualAddress));
        return 0;
    }
}
