using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Arm64Mmu.Exploration;

namespace Arm64Mmu.Cli.Litmus;

/// <summary>
/// <c>arm64mmu litmus FILES... [--json OUT] [--max-executions N] [--timeout S] [--check-against herd7.jsonl]</c>:
/// explores every execution of herd7-syntax AArch64 (VMSA) litmus tests and prints the final states and verdicts.
/// Exit status 0; 1 when --check-against finds an answer herd7's model forbids; 2 on a usage error.
/// </summary>
internal static class LitmusCommand
{
    private const long MaxFileBytes = 1 << 20;

    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "litmus files, or directories searched for *.litmus", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<string?>("--json") { Description = "write one JSON line per test: name, status, verdict, states, executions, seconds (and reason)" };
        var maxExec = new Option<long?>("--max-executions") { Description = "stop a test (status timeout) after exploring this many distinct states" };
        var timeout = new Option<double?>("--timeout") { Description = "stop a test (status timeout) after this many seconds" };
        var check = new Option<string?>("--check-against") { Description = "herd7.jsonl with herd7's answers: report unsound answers (exit 1), witnesses reached and states equal to the SC-data model" };
        var quiet = new Option<bool>("--quiet") { Description = "print only one line per test and the summary" };
        var jobs = new Option<int?>("--jobs") { Description = "tests explored in parallel (default: the number of processors)" };
        var scenarios = new Option<bool>("--scenarios") { Description = "explore the fixmap, KPTI and runstate stories as litmus tests and compare with the single-schedule demo" };
        var cmd = new Command("litmus", "Explore every execution of AArch64 VMSA litmus tests (herd7 syntax) and print their final states and verdicts")
        {
            files, json, maxExec, timeout, check, quiet, jobs, scenarios,
        };
        cmd.SetAction(pr => pr.GetValue(scenarios)
            ? ScenarioReport.Run(pr.GetValue(files)!, pr.GetValue(quiet))
            : Run(pr.GetValue(files)!, pr.GetValue(json), pr.GetValue(maxExec), pr.GetValue(timeout), pr.GetValue(check), pr.GetValue(quiet), pr.GetValue(jobs)));
        return cmd;
    }

    private static int Run(string[] inputs, string? jsonPath, long? maxExecutions, double? timeout, string? checkPath, bool quiet, int? jobs)
    {
        if (inputs.Length == 0) throw new CliException("no litmus files given (or use --scenarios)");
        if (maxExecutions is < 1) throw new CliException($"--max-executions {maxExecutions}: must be at least 1");
        if (timeout is { } to && (double.IsNaN(to) || to <= 0)) throw new CliException($"--timeout {timeout}: must be a positive number of seconds");
        if (jobs is < 1 or > 64) throw new CliException($"--jobs {jobs}: allowed 1 to 64");
        var paths = ExpandInputs(inputs);
        var reference = checkPath is null ? null : LoadReference(checkPath);
        var options = new ExplorationOptions
        {
            MaxStates = maxExecutions ?? new ExplorationOptions().MaxStates,
            Timeout = timeout is { } t ? TimeSpan.FromSeconds(t) : null,
        };

        var sw = Stopwatch.StartNew();
        var results = new ExplorationResult[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = jobs ?? Environment.ProcessorCount }, i =>
        {
            string text;
            try
            {
                // A litmus test is a few KiB; a larger file is refused before it is read.
                if (new FileInfo(paths[i]).Length > MaxFileBytes) throw new IOException($"larger than {MaxFileBytes / 1024} KiB, too large for a litmus test");
                text = File.ReadAllText(paths[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                results[i] = new ExplorationResult { Name = Path.GetFileNameWithoutExtension(paths[i]), Status = ExplorationStatus.Error, Reason = e.Message };
                return;
            }
            results[i] = Explorer.Run(text, options, Path.GetFileNameWithoutExtension(paths[i]));
        });
        double wall = sw.Elapsed.TotalSeconds;

        var summary = new Summary();
        var output = new StringBuilder();
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            var judgement = reference is null ? null : Herd7Reference.Judge(r, reference.GetValueOrDefault(r.Name));
            summary.Add(r, judgement);
            Print(r, judgement, quiet);
        }
        if (jsonPath is not null) WriteJson(jsonPath, results);
        summary.Print(wall, reference is not null);
        return summary.Unsound > 0 ? 1 : 0;
    }

    private static Dictionary<string, Herd7Answer> LoadReference(string path)
    {
        try { return Herd7Reference.Load(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"--check-against {path}: {e.Message}"); }
    }

    private static List<string> ExpandInputs(string[] inputs)
    {
        var list = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p)) list.AddRange(Directory.EnumerateFiles(p, "*.litmus", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            else if (File.Exists(p)) list.Add(p);
            else throw new CliException($"{p}: no such file or directory");
        }
        if (list.Count == 0) throw new CliException($"no .litmus files in {string.Join(", ", inputs)}");
        return list;
    }

    private static void Print(ExplorationResult r, Herd7Reference.Judgement? j, bool quiet)
    {
        string verdict = r.Verdict?.ToString() ?? r.Status.ToString().ToLowerInvariant();
        string extra = r.Status == ExplorationStatus.Ok
            ? $"{r.States.Count} states, {r.Executions:0} executions, {r.Seconds:0.000} s"
            : r.Reason ?? "";
        string judged = j is null || !j.Compared ? "" : !j.Sound ? "  UNSOUND" : j.EqualsScExplicit ? "  (= herd7 SC-data states)" : $"  (sound; {j.Missing} SC-data states not reached)";
        Console.WriteLine($"{r.Name}: {verdict} [{extra}]{judged}");
        if (j is { Sound: false }) foreach (var u in j.Unsound) Console.WriteLine($"    not allowed by herd7: {u}");
        if (quiet || r.Status != ExplorationStatus.Ok) return;
        foreach (var s in r.States) Console.WriteLine($"    {s.Text}{(s.SatisfiesCondition ? "   <- satisfies the condition" : "")}");
    }

    private static void WriteJson(string path, ExplorationResult[] results)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("status", r.Status.ToString().ToLowerInvariant());
                if (r.Verdict is { } v) w.WriteString("verdict", v.ToString());
                else w.WriteNull("verdict");
                w.WriteStartArray("states");
                foreach (var s in r.States) w.WriteStringValue(s.Text);
                w.WriteEndArray();
                w.WriteNumber("executions", r.Executions);
                w.WriteNumber("states_visited", r.StatesVisited);
                w.WriteNumber("seconds", Math.Round(r.Seconds, 4));
                if (r.Reason is not null) w.WriteString("reason", r.Reason);
                w.WriteEndObject();
            }
            sb.Append(Encoding.UTF8.GetString(ms.ToArray())).Append('\n');
        }
        string tmp = path + ".tmp";
        try
        {
            File.WriteAllText(tmp, sb.ToString());
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write --json {path}: {e.Message}");
        }
    }

    private sealed class Summary
    {
        private int _tests, _ok, _unsupported, _error, _timeout, _compared, _witnessNeeded, _witnessReached, _equal;
        private double _executions, _seconds;
        private long _states;
        private readonly Dictionary<string, int> _reasons = new(StringComparer.Ordinal);
        public int Unsound { get; private set; }

        public void Add(ExplorationResult r, Herd7Reference.Judgement? j)
        {
            _tests++;
            _seconds += r.Seconds;
            _executions += r.Executions;
            _states += r.StatesVisited;
            switch (r.Status)
            {
                case ExplorationStatus.Ok: _ok++; break;
                case ExplorationStatus.Unsupported: _unsupported++; _reasons[Category(r.Reason)] = _reasons.GetValueOrDefault(Category(r.Reason)) + 1; break;
                case ExplorationStatus.Error: _error++; break;
                default: _timeout++; break;
            }
            if (j is not { Compared: true }) return;
            _compared++;
            if (!j.Sound) Unsound++;
            if (j.WitnessNeeded == true) { _witnessNeeded++; if (j.WitnessReached) _witnessReached++; }
            if (j.EqualsScExplicit) _equal++;
        }

        private static string Category(string? reason)
        {
            if (reason is null) return "(none)";
            int colon = reason.IndexOf(": ", StringComparison.Ordinal);
            return colon > 0 && reason.StartsWith('P') ? reason[(colon + 2)..] : reason;
        }

        public void Print(double wall, bool compared)
        {
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine();
            Console.WriteLine(string.Create(inv, $"{_tests} tests: {_ok} ok, {_unsupported} unsupported, {_error} error, {_timeout} timeout; {wall:0.0} s wall, {_seconds:0.0} s CPU in explorations"));
            Console.WriteLine(string.Create(inv, $"{_states} states visited ({_states / Math.Max(_seconds, 1e-9):0} states/s), {_executions:0} executions ({_executions / Math.Max(_seconds, 1e-9):0} executions/s)"));
            foreach (var (reason, n) in _reasons.OrderByDescending(kv => kv.Value)) Console.WriteLine($"  unsupported x{n}: {reason}");
            if (compared)
                Console.WriteLine($"against herd7: {_compared} compared, {Unsound} unsound, witnesses {_witnessReached}/{_witnessNeeded} allowed-under-sc-data, {_equal} equal to herd7's SC-data states");
        }
    }
}
