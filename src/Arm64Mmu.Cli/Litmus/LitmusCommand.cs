using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Arm64Mmu.Exploration;

namespace Arm64Mmu.Cli.Litmus;

/// <summary>
/// <c>arm64mmu litmus FILES... [--json OUT] [--max-executions N] [--timeout S] [--check-against herd7.jsonl] [--max-input-mib N]</c>:
/// explores every execution of herd7-syntax AArch64 (VMSA) litmus tests and prints the final states and verdicts.
/// Exit status 0; 1 when --check-against finds an answer herd7's model forbids; 2 on a usage error or when a file could
/// not be read or parsed (every other file is still explored and reported first).
/// </summary>
internal static class LitmusCommand
{
    /// <summary>Longest --timeout, in seconds (about 11 days): a larger value would overflow the exploration's deadline.</summary>
    internal const double MaxTimeoutSeconds = 1_000_000;

    /// <summary>
    /// Distinct states one exploration may visit unless --max-executions says otherwise: 100,000 states take about 300 MB
    /// and 3 s (measured: a 4 KiB test of 60 broadcast TLBIs against a load, peak resident set, --jobs 1), while herd7's
    /// whole VMSA catalogue needs at most 681 per test. The library's default (500,000) took 1.3 GB for the same test.
    /// </summary>
    internal const long DefaultMaxStates = 100_000;

    /// <summary>Characters of a test's name and reason printed on its line (the --json file has them whole).</summary>
    private const int PrintedReason = 400;

    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "litmus files, or directories searched for *.litmus", Arity = ArgumentArity.ZeroOrMore }.RefusingUnknownOptions();
        var json = new Option<string?>("--json") { Description = "write one JSON line per test: name, status, verdict, states, executions, seconds (and reason)" };
        var maxExec = new Option<long?>("--max-executions") { Description = $"stop a test (status timeout) after exploring this many distinct states (default {DefaultMaxStates}; each takes about 3 KB, and --jobs tests are explored at once)" };
        var timeout = new Option<double?>("--timeout") { Description = $"stop a test (status timeout) after this many seconds (above 0, at most {MaxTimeoutSeconds:0})" };
        var check = new Option<string?>("--check-against") { Description = "herd7.jsonl with herd7's answers: report unsound answers (exit 1), witnesses reached and states equal to the SC-data model" };
        var quiet = new Option<bool>("--quiet") { Description = "print only one line per test and the summary" };
        var jobs = new Option<int?>("--jobs") { Description = "tests explored in parallel, 1 to 64 (default: the number of processors)" };
        var scenarios = new Option<bool>("--scenarios") { Description = "explore the fixmap, KPTI and runstate stories as litmus tests and compare with the single-schedule demo" };
        var limits = InputLimits.ForLitmus();
        var cmd = new Command("litmus", "Explore every execution of AArch64 VMSA litmus tests (herd7 syntax) and print their final states and verdicts; exit 0 done, 1 an answer herd7 forbids (--check-against), 2 usage error or a file that cannot be read or parsed (reported as 'error' after the others; limit: --max-input-mib per file; docs/litmus.md)")
        {
            files, json, maxExec, timeout, check, quiet, jobs, scenarios,
        };
        foreach (var o in limits.All()) cmd.Options.Add(o);
        cmd.SetAction(pr => pr.GetValue(scenarios)
            ? ScenarioReport.Run(pr.GetValue(files)!, pr.GetValue(quiet))
            : Run(pr.GetValue(files)!, pr.GetValue(json), pr.GetValue(maxExec), pr.GetValue(timeout), pr.GetValue(check), pr.GetValue(quiet), pr.GetValue(jobs), limits.InputBytes(pr)));
        return cmd;
    }

    private static int Run(string[] inputs, string? jsonPath, long? maxExecutions, double? timeout, string? checkPath, bool quiet, int? jobs, long maxInputBytes)
    {
        if (inputs.Length == 0) throw new CliException("no litmus files given (or use --scenarios)");
        foreach (var p in inputs) InputFile.Require(p, "files");
        if (jsonPath is not null) InputFile.Require(jsonPath, "--json");
        if (checkPath is not null) InputFile.Require(checkPath, "--check-against");
        if (maxExecutions is < 1) throw new CliException($"--max-executions {maxExecutions}: must be at least 1");
        if (timeout is { } to && !(to > 0 && to <= MaxTimeoutSeconds))
            throw new CliException($"--timeout {to.ToString(CultureInfo.InvariantCulture)}: give a number of seconds above 0 and at most {MaxTimeoutSeconds:0}");
        if (jobs is < 1 or > 64) throw new CliException($"--jobs {jobs}: allowed 1 to 64");
        var paths = ExpandInputs(inputs);
        var reference = checkPath is null ? null : LoadReference(checkPath, maxInputBytes);
        var options = new ExplorationOptions
        {
            MaxStates = maxExecutions ?? DefaultMaxStates,
            Timeout = timeout is { } t ? TimeSpan.FromSeconds(t) : null,
        };

        var sw = Stopwatch.StartNew();
        var results = new ExplorationResult[paths.Count];
        void Explore(int i) => results[i] = ReadAndExplore(paths[i], options, maxInputBytes);
        int parallelism = jobs ?? Environment.ProcessorCount;
        // One at a time on this thread when asked (--jobs 1): the same order every run, and nothing on other threads.
        if (parallelism == 1) for (int i = 0; i < paths.Count; i++) Explore(i);
        else
        {
            try { Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, Explore); }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1) { ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
        }
        double wall = sw.Elapsed.TotalSeconds;

        var summary = new Summary();
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i];
            var judgement = reference is null ? null : Herd7Reference.Judge(r, reference.GetValueOrDefault(r.Name));
            summary.Add(r, judgement);
            Print(r, judgement, quiet);
        }
        if (jsonPath is not null) WriteJson(jsonPath, results);
        summary.Print(wall, reference is not null);
        // A file that could not be read or parsed is an input error (exit 2), as for every other command; it outranks an
        // unsound answer (exit 1) because the run did not cover what it was asked to. Both are on standard output above.
        int failed = Array.FindIndex(results, r => r.Status == ExplorationStatus.Error);
        if (failed >= 0)
        {
            int count = results.Count(r => r.Status == ExplorationStatus.Error);
            string others = results.Length == 1 ? ""
                : $" ({count} of {results.Length} files could not be read or parsed, each shown above with status error; the others were explored)";
            return CliRunner.UsageError($"{paths[failed]}: {results[failed].Reason}{others}");
        }
        return summary.Unsound > 0 ? ExitStatus.Findings : ExitStatus.Ok;
    }

    // A file that cannot be read (missing, too large, a device that never ends) is a test with status error, reported
    // beside the others rather than stopping the run.
    internal static ExplorationResult ReadAndExplore(string path, ExplorationOptions options, long maxInputBytes)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        string text;
        try { text = Decode(InputFile.ReadBytes(path, maxInputBytes, "--max-input-mib")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new ExplorationResult { Name = name, Status = ExplorationStatus.Error, Reason = $"cannot read the file: {e.Message}" };
        }
        return Explorer.Run(text, options, name);
    }

    /// <summary>UTF-8 text without its byte-order mark; bytes that are not UTF-8 become U+FFFD (and then fail to parse where they matter).</summary>
    internal static string Decode(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        return Encoding.UTF8.GetString(span);
    }

    private static Dictionary<string, Herd7Answer> LoadReference(string path, long maxInputBytes)
    {
        try { return Herd7Reference.Load(path, Decode(InputFile.ReadBytes(path, maxInputBytes, "--max-input-mib"))); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"--check-against {path}: cannot read the file: {e.Message}");
        }
    }

    private static List<string> ExpandInputs(string[] inputs)
    {
        var list = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p))
            {
                try { list.AddRange(Directory.EnumerateFiles(p, "*.litmus", SearchOption.AllDirectories).Order(StringComparer.Ordinal)); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"{p}: cannot list the directory: {e.Message}"); }
            }
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
            : CliRunner.OneLine(r.Reason ?? "", PrintedReason);
        string judged = j is null || !j.Compared ? "" : !j.Sound ? "  UNSOUND" : j.EqualsScExplicit ? "  (= herd7 SC-data states)" : $"  (sound; {j.Missing} SC-data states not reached)";
        Console.WriteLine($"{CliRunner.OneLine(r.Name, PrintedReason)}: {verdict} [{extra}]{judged}");
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
            foreach (var (reason, n) in _reasons.OrderByDescending(kv => kv.Value)) Console.WriteLine($"  unsupported x{n}: {CliRunner.OneLine(reason, PrintedReason)}");
            if (compared)
                Console.WriteLine($"against herd7: {_compared} compared, {Unsound} unsound, witnesses {_witnessReached}/{_witnessNeeded} allowed-under-sc-data, {_equal} equal to herd7's SC-data states");
        }
    }
}
