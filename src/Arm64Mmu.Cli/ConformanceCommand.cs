using System.CommandLine;
using System.Text;
using Arm64Mmu.Cli.Conformance;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli;

internal static class ConformanceCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "vector files in the arm64mmu-conformance/1 format", Arity = ArgumentArity.OneOrMore };
        var results = new Option<string>("--results") { Description = "where to write the answers (JSON lines: case, index, par)", Required = true };
        var check = new Option<bool>("--check") { Description = "also compare with the expected PAR values and print 'N passed, M failed'" };
        var cmd = new Command("conformance", "Answer AT/PAR_EL1 conformance vectors with the simulator") { files, results, check };
        cmd.SetAction(pr => Run(pr.GetValue(files)!, pr.GetValue(results)!, pr.GetValue(check)));
        return cmd;
    }

    private static int Run(string[] paths, string resultsPath, bool check)
    {
        var loaded = new List<VectorFile>();
        foreach (var p in paths) loaded.Add(VectorFile.Load(p));
        var sb = new StringBuilder();
        int passed = 0, failed = 0, total = 0, answered = 0;
        // Thousands of walks over several files: a progress bar on standard error when it is a terminal.
        using var progress = ProgressDisplay.Start("conformance", loaded.Sum(f => f.Cases.Count));
        foreach (var file in loaded)
        {
            foreach (var c in file.Cases)
            {
                progress.Report(answered++);
                ulong[] pars = ConformanceRunner.Run(c, file.Features);
                for (int i = 0; i < pars.Length; i++)
                {
                    sb.Append("{\"case\": \"").Append(c.Name).Append("\", \"index\": ").Append(i)
                      .Append(", \"par\": \"0x").Append(pars[i].ToString("x16")).Append("\"}\n");
                    total++;
                    if (!check || c.Queries[i].Par is null) continue;
                    if (ConformanceRunner.Matches(c.Queries[i], pars[i])) { passed++; continue; }
                    failed++;
                    var q = c.Queries[i];
                    progress.WriteLine($"FAIL {c.Name} #{i} {q.Op} VA=0x{q.Va:x16}");
                    progress.WriteLine($"     expected {new Architecture.Par(q.Par!.Value)}");
                    progress.WriteLine($"     got      {new Architecture.Par(pars[i])}");
                    if (q.Note is not null) progress.WriteLine($"     note     {q.Note}");
                }
            }
        }
        progress.Stop();
        try { File.WriteAllText(resultsPath, sb.ToString()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write --results {resultsPath}: {e.Message}");
        }
        Console.Error.WriteLine($"answered {total} queries from {loaded.Sum(f => f.Cases.Count)} cases in {loaded.Count} files -> {resultsPath}");
        if (check)
        {
            Console.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }
        return 0;
    }
}
