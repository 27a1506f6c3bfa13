using System.CommandLine;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Checking.Traces;

namespace Arm64Mmu.Cli;

/// <summary><c>arm64mmu check &lt;trace&gt;</c>: replays a recorded trace through the break-before-make checker.
/// Exit status 0 clean, 1 violations found, 2 unusable input (unreadable, malformed, empty, or over a limit).</summary>
internal static class CheckCommand
{
    /// <summary>Violations printed in full; the rest are counted in the summary.</summary>
    private const int PrintedViolations = 100;

    public static Command Create()
    {
        var trace = new Argument<string>("trace") { Description = "a trace file: the arm64mmu line format (docs/trace-format.md) or a Casemate s-expression trace" };
        var policy = new Option<string?>("--policy") { Description = "which rules: architecture (default, Arm ARM R_WHZWS), linux (pgattr_change_is_safe), always-break (TF-A) or casemate (architecture plus Casemate's lock discipline, one ASID/VMID per root and RES0 register fields)" };
        var bbm = new Option<int?>("--bbm") { Description = "FEAT_BBM level of every PE: 0, 1 or 2 (default: the trace's 'features' line, else 0)" };
        var format = new Option<string?>("--format") { Description = "auto (default: Casemate when the first record starts with '('), arm64mmu or casemate" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary" };
        var json = new Option<bool>("--json") { Description = "print one JSON document (trace, notes, unchecked events, violations with their traces, outstanding invalidations); the exit status is the same" };
        var limits = InputLimits.ForTraces();
        var cmd = new Command("check", "Check a recorded trace (stores to table memory, barriers, TLBIs, system-register writes, per PE) for break-before-make and TLB-maintenance violations; exit 0 clean, 1 violations, 2 unusable input (unreadable, malformed, no events, or over a limit: --max-input-mib, --max-events, --max-pes, --max-memory-mib; docs/limits.md)")
        {
            trace, policy, bbm, format, quiet, json,
        };
        foreach (var o in limits.All()) cmd.Options.Add(o);
        cmd.SetAction(pr => Run(pr.GetValue(trace)!, pr.GetValue(policy), pr.GetValue(bbm), pr.GetValue(format), pr.GetValue(quiet), limits.Traces(pr), pr.GetValue(json)));
        return cmd;
    }

    /// <summary>Traces with at least this many records show a progress bar (on a terminal): they take seconds to replay.</summary>
    internal const int ProgressThreshold = 20_000;

    private static int Run(string path, string? policyName, int? bbm, string? format, bool quiet, TraceLimits limits, bool json)
    {
        InputFile.Require(path, "trace");
        bool casemate = string.Equals(policyName, "casemate", StringComparison.OrdinalIgnoreCase);
        var options = casemate ? CheckerOptions.Casemate : new CheckerOptions();
        var policy = policyName is null || casemate ? options.Policy
            : BreakBeforeMakePolicy.Parse(policyName) ?? throw new CliException($"--policy {policyName}: allowed architecture, linux, always-break or casemate");
        if (bbm is { } b && b is < 0 or > 2) throw new CliException($"--bbm {b}: allowed 0, 1 or 2");
        if (format?.ToLowerInvariant() is not (null or "auto" or "arm64mmu" or "casemate")) throw new CliException($"--format {format}: allowed auto, arm64mmu or casemate");
        ParsedTrace parsed;
        try { parsed = TraceFile.Load(path, limits, format); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{path}: cannot read the file: {e.Message}");
        }
        if (parsed.Unchecked.Count == 0 && parsed.Records.All(r => r.Kind == TraceRecordKind.Initial))
            throw new CliException($"{parsed.Name}: the trace holds no events, so there is nothing to check (an arm64mmu trace has lines such as '0 str <pa> <value>', a Casemate trace '(mem-write …)' records; docs/trace-format.md)");

        options = options with { Policy = policy };
        var features = parsed.Features ?? options.Features;
        if (bbm is { } level) features = features with { BbmLevel = level };
        options = options with { Features = features };
        TraceReplayResult result;
        try
        {
            using var progress = ProgressDisplay.Start($"checking {parsed.Name}", parsed.Records.Count >= ProgressThreshold ? parsed.Records.Count : 0);
            result = TraceReplayer.Replay(parsed, options, limits, n => progress.Report(n));
        }
        catch (ArgumentException e) { throw new CliException($"{parsed.Name}: {e.Message.Split(" (Parameter")[0]}"); }

        var checker = result.Checker;
        var violations = result.Violations;
        if (json)
        {
            JsonOutput.Write(new CheckJson(parsed.Name, parsed.Format, parsed.Records.Count, parsed.PeCount, casemate ? "casemate" : policy.Name, features.BbmLevel, parsed.Notes,
                parsed.Unchecked.GroupBy(u => u.Category).Select(g => new UncheckedJson(g.Key.ToString(), g.Count(), g.Select(u => u.Line).ToArray())).ToArray(),
                parsed.EmbeddedVerdict is { } verdict ? new VerdictJson(verdict, CasemateVerdicts.Classify(verdict).ToString()) : null,
                checker.ViolationCount == 0, checker.ViolationCount, checker.ViolationCounts.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
                violations.Select(JsonOutput.Of).ToArray(), checker.OutstandingObligations));
            return checker.ViolationCount == 0 ? ExitStatus.Ok : ExitStatus.Findings;
        }
        if (!quiet)
        {
            Console.WriteLine($"{parsed.Name}: {parsed.Format} trace, {parsed.Records.Count} events on {parsed.PeCount} PE(s), policy {(casemate ? "casemate" : policy.Name)}, FEAT_BBM level {features.BbmLevel}");
            foreach (var n in parsed.Notes) Console.WriteLine($"note: {CliRunner.OneLine(n)}");
            foreach (var g in parsed.Unchecked.GroupBy(u => u.Category))
                Console.WriteLine($"not checked: {g.Count()} {g.Key} event(s) ({Lines(g.Select(u => u.Line))})");
            var lockRecords = parsed.Records.Where(r => r.Kind is TraceRecordKind.Lock or TraceRecordKind.TryLock or TraceRecordKind.Unlock
                or TraceRecordKind.RootLock or TraceRecordKind.OwnerRoot or TraceRecordKind.ThreadOwner).Select(r => r.Line).ToList();
            if (!casemate && lockRecords.Count > 0)
                Console.WriteLine($"not checked: {lockRecords.Count} lock-discipline record(s) ({Lines(lockRecords)}): checked with --policy casemate");
            if (parsed.EmbeddedVerdict is { } ev)
                Console.WriteLine($"the trace carries Casemate's verdict: '{CliRunner.OneLine(ev, 200)}' ({Describe(CasemateVerdicts.Classify(ev), casemate)})");
            Console.WriteLine();
            foreach (var v in violations.Take(PrintedViolations)) Console.WriteLine(v);
            if (checker.ViolationCount > PrintedViolations)
                Console.WriteLine($"… {checker.ViolationCount - PrintedViolations} more violation(s) not printed (the first {PrintedViolations} are; the summary counts all)");
        }
        Console.WriteLine(checker.ViolationCount == 0
            ? $"{parsed.Name}: clean (no break-before-make or TLB-maintenance violation{(casemate ? ", no breach of Casemate's rules" : "")})"
            : $"{parsed.Name}: {checker.ViolationCount} violation(s): {string.Join(", ", checker.ViolationCounts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key}"))}");
        if (!quiet && checker.OutstandingObligations > 0)
            Console.WriteLine($"note: at the end of the trace {checker.OutstandingObligations} invalidation(s) are still outstanding (breaks not yet invalidated; not a violation until the entry is made valid again or used)");
        return checker.ViolationCount == 0 ? ExitStatus.Ok : ExitStatus.Findings;
    }

    private static string Lines(IEnumerable<int> lines)
    {
        var list = lines.ToList();
        return $"line{(list.Count == 1 ? "" : "s")} {string.Join(", ", list.Take(8))}{(list.Count > 8 ? ", …" : "")}";
    }

    private static string Describe(CasemateVerdictCategory c, bool casemate) => c switch
    {
        CasemateVerdictCategory.BreakBeforeMake => "break-before-make / TLB maintenance: checked",
        CasemateVerdictCategory.LockDiscipline => "Casemate's lock discipline: " + (casemate ? "checked" : "checked with --policy casemate"),
        CasemateVerdictCategory.IdDiscipline => "Casemate's one ASID/VMID per root: " + (casemate ? "checked" : "checked with --policy casemate; the architecture only asks that reused IDs be invalidated"),
        CasemateVerdictCategory.RegisterValue => "a RES0 register field: " + (casemate ? "checked" : "checked with --policy casemate"),
        CasemateVerdictCategory.NotModelled => "Casemate's write authorisation: not modelled",
        CasemateVerdictCategory.Clean => "clean",
        _ => "unknown to this checker",
    };
}

/// <summary><c>check --json</c>: <see cref="Violations"/> holds the violations the checker kept (the first 1000); the counts cover all.</summary>
internal sealed record CheckJson(string Trace, string Format, int Events, int Pes, string Policy, int BbmLevel, IReadOnlyList<string> Notes,
    IReadOnlyList<UncheckedJson> Unchecked, VerdictJson? EmbeddedVerdict, bool Clean, long ViolationCount, IReadOnlyDictionary<string, long> ViolationCounts,
    IReadOnlyList<ViolationJson> Violations, int OutstandingObligations);

internal sealed record UncheckedJson(string Category, int Count, IReadOnlyList<int> Lines);

internal sealed record VerdictJson(string Text, string Category);
