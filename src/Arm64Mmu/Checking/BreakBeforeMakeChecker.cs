using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

/// <summary>
/// Checks break-before-make and TLB maintenance (Arm ARM R_WHZWS, R_DDMVT, D8.16–D8.17;
/// the model is described in docs/checker.md). It reasons about what each PE <em>may</em> hold: any valid entry reachable from a live root of
/// a PE may be cached by that PE at any time (R_SQBCS). It keeps per PE the translation registers, a reverse map from
/// table pages to (root, level, input-address base), and obligations created by breaks and discharged by TLBIs.
/// <para>
/// Online: attach it to the memory (<c>memory.Attach(checker)</c>) and register it as the machine observer; offline:
/// feed it events (see <see cref="Traces.TraceReplayer"/>). Tests drive the observer methods directly.
/// </para>
/// </summary>
public sealed partial class BreakBeforeMakeChecker : IMachineObserver, IPhysicalMemoryObserver
{
    private readonly PhysicalMemory _memory;
    private readonly PeState[] _pes;
    private readonly ReverseMap _map;
    private readonly List<Obligation> _outstanding = new();
    private readonly List<Violation> _violations = new();
    private readonly Dictionary<ViolationKind, long> _violationCounts = new();
    private long _violationCount;
    private readonly List<Violation> _toReport = new();
    private readonly Queue<TraceEvent> _recent = new();
    // Scratch list for OnWrite (the checker is not re-entered while it handles a store: it never writes memory).
    private readonly List<EntryPosition> _positions = new();
    private long _eventCount;

    /// <summary>Creates a checker reading table contents from <paramref name="memory"/> for a machine of <paramref name="peCount"/> PEs.
    /// It does not attach itself: call <c>memory.Attach(checker)</c> (or use <see cref="Observe"/>).</summary>
    public BreakBeforeMakeChecker(PhysicalMemory memory, int peCount, CheckerOptions? options = null)
    {
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        if (peCount is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(peCount), $"{peCount} PEs: allowed 1 to 4096");
        Options = options ?? new CheckerOptions();
        if (Options.PeFeatures is { } pf && pf.Count < peCount)
            throw new ArgumentException($"PeFeatures lists {pf.Count} PEs, the machine has {peCount}", nameof(options));
        _pes = new PeState[peCount];
        for (int i = 0; i < peCount; i++) _pes[i] = new PeState(i, Options.PeFeatures?[i] ?? Options.Features);
        _map = new ReverseMap(memory);
    }

    /// <summary>Creates a checker and attaches it to <paramref name="memory"/> as a write observer.</summary>
    public static BreakBeforeMakeChecker Observe(PhysicalMemory memory, int peCount, CheckerOptions? options = null)
    {
        var c = new BreakBeforeMakeChecker(memory, peCount, options);
        memory.Attach(c);
        return c;
    }

    /// <summary>The options.</summary>
    public CheckerOptions Options { get; }
    /// <summary>Number of PEs.</summary>
    public int PeCount => _pes.Length;
    /// <summary>The memory table contents are read from.</summary>
    public PhysicalMemory Memory => _memory;
    /// <summary>Violations found so far, in order: the first <see cref="CheckerOptions.MaxViolations"/> of them.</summary>
    public IReadOnlyList<Violation> Violations => _violations;
    /// <summary>Violations found so far, including those past <see cref="CheckerOptions.MaxViolations"/> that were only counted.</summary>
    public long ViolationCount => _violationCount;
    /// <summary>Violations found so far by kind, including those only counted.</summary>
    public IReadOnlyDictionary<ViolationKind, long> ViolationCounts => _violationCounts;
    /// <summary>The most recent events (up to <see cref="CheckerOptions.RetainedEvents"/>).</summary>
    public IReadOnlyList<TraceEvent> Events => _recent.ToArray();
    /// <summary>Number of events seen.</summary>
    public long EventCount => _eventCount;
    /// <summary>A label attached to the following events (e.g. "trace.log:12"), or null.</summary>
    public string? Source { get; set; }
    /// <summary>Number of invalidation obligations not yet discharged (entries some PE may still hold after a break).</summary>
    public int OutstandingObligations => _outstanding.Count;

    /// <summary>Describes the outstanding obligations, one line each (for diagnostics).</summary>
    public IReadOnlyList<string> DescribeOutstanding()
        => _outstanding.Select(o => $"PE{o.Pe} must invalidate {o.What} (descriptor 0x{o.Location:x}; {o.Scope()}; {o.Remaining})").ToList();

    /// <summary>The value of a system register of a PE as the checker knows it.</summary>
    public ulong Register(int pe, SystemRegister register) => Pe(pe).Registers[register];

    /// <summary>Loads every register of a PE at once (when attaching to a machine that is already running).</summary>
    public void LoadRegisters(int pe, SystemRegisters registers)
    {
        ArgumentNullException.ThrowIfNull(registers);
        var p = Pe(pe);
        p.Registers.CopyFrom(registers);
        var ev = Record(pe, "registers loaded");
        RecomputeContexts(p, ev);
        Flush();
    }

    /// <summary>
    /// The state a TLBI operand of <paramref name="pe"/> is decoded against: HCR_EL2.E2H/TGE, the VMID, FEAT_TTL/LPA2, the
    /// ASID size, and for a range operand the DS bit of the regime <paramref name="op"/> addresses where the PE supports
    /// 52-bit addresses for the operand's granule — derived by <see cref="TlbiContext.Of"/>, as the PE derives it.
    /// </summary>
    public TlbiContext TlbiContextOf(int pe, TlbiOp op, ulong operand = 0)
    {
        var p = Pe(pe);
        return TlbiContext.Of(op, operand, p.Registers, p.Features);
    }

    /// <summary>Decodes a TLBI operand as PE <paramref name="pe"/> would execute it.</summary>
    public TlbiScope DecodeTlbi(int pe, TlbiOp op, ulong operand = 0) => TlbiScope.Decode(op, operand, TlbiContextOf(pe, op, operand));

    private PeState Pe(int pe)
    {
        if ((uint)pe >= (uint)_pes.Length) throw new ArgumentOutOfRangeException(nameof(pe), $"PE {pe}: the machine has PEs 0 to {_pes.Length - 1}");
        return _pes[pe];
    }

    private TraceEvent Record(int pe, string instruction, ulong? address = null, ulong? oldValue = null, ulong? newValue = null)
        => Retain(new TraceEvent(_eventCount++, pe, instruction, address, oldValue, newValue, Source));

    private TraceEvent Retain(TraceEvent e)
    {
        if (Options.RetainedEvents > 0)
        {
            _recent.Enqueue(e);
            while (_recent.Count > Options.RetainedEvents) _recent.Dequeue();
        }
        return e;
    }

    private void Report(Violation v) => _toReport.Add(v);

    // Violations are published once the event has been fully applied, so that a throwing checker leaves a consistent state.
    private void Flush()
    {
        if (_toReport.Count == 0) return;
        // One store can sit in several trees (a table linked from several roots): one violation per kind and descriptor.
        var batch = _toReport.GroupBy(v => (v.Kind, v.At.Index, v.DescriptorAddress)).Select(Combine).ToArray();
        _toReport.Clear();
        foreach (var v in batch)
        {
            _violationCount++;
            _violationCounts[v.Kind] = _violationCounts.GetValueOrDefault(v.Kind) + 1;
            if (_violations.Count < Options.MaxViolations) _violations.Add(v);
        }
        if (Options.Mode == CheckerMode.Throw) throw new BreakBeforeMakeException(batch[0]);
    }

    private static Violation Combine(IEnumerable<Violation> group)
    {
        var list = group.ToList();
        var f = list[0];
        if (list.Count == 1) return f;
        return new Violation(f.Kind, list.SelectMany(v => v.Pes).Distinct().Order().ToArray(), f.DescriptorAddress, f.OldValue, f.NewValue,
            f.InputStart, f.InputLast, string.Join("; ", list.Select(v => v.Scope).Distinct()), f.Summary,
            list.SelectMany(v => v.Details).Distinct().ToArray(), EventTrail.Of(list.SelectMany(v => v.Trace), f.At, list.Max(v => v.OmittedEvents), list.MaxBy(v => v.OmittedEvents)!.GapAfter), f.At, f.Reason);
    }

    private static EventTrail Merge(IEnumerable<TraceEvent> events, TraceEvent at) => EventTrail.Of(events, at, 0, -1);

    // The events of the obligations' breaks and of the obligations themselves; the count of those their bounded histories
    // no longer hold is a lower bound when several obligations share events (one TLBI concerns every PE's obligation).
    private static EventTrail Merge(IEnumerable<Obligation> obligations, TraceEvent at)
    {
        var list = obligations as IReadOnlyCollection<Obligation> ?? obligations.ToList();
        var most = list.SelectMany(o => new[] { o.Break.Events, o.Events }).MaxBy(h => h.Dropped);
        return EventTrail.Of(list.SelectMany(o => o.Break.Events.Concat(o.Events)), at, most?.Dropped ?? 0, most?.GapAfter ?? -1);
    }

    /// <inheritdoc/>
    public void OnIsb(int pe)
    {
        Pe(pe);
        Record(pe, "ISB");
    }

    /// <inheritdoc/>
    public void OnExceptionLevelChange(int pe, int exceptionLevel)
    {
        if (exceptionLevel is < 0 or > 3) throw new ArgumentOutOfRangeException(nameof(exceptionLevel), $"EL{exceptionLevel}: allowed 0 to 3");
        // Out-of-context regimes (R_FXGNQ) keep what they cached; the EL matters only for forgetting invalidated contexts.
        var p = Pe(pe);
        p.ExceptionLevel = exceptionLevel;
        var ev = Record(pe, $"exception level -> EL{exceptionLevel}");
        RecomputeContexts(p, ev);
        Flush();
    }

    /// <inheritdoc/>
    public void OnTlbConflict(int pe, VirtualAddress address, in TlbEntryTag first, in TlbEntryTag second)
    {
        ulong va = address.Value;
        Pe(pe);
        var ev = Record(pe, "TLB conflict", va);
        Report(new Violation(ViolationKind.TlbConflict, new[] { pe }, 0, 0, 0, Math.Min(first.InputBase, second.InputBase),
            Math.Max(first.InputLast, second.InputLast), $"{first} / {second}",
            $"PE{pe} found two TLB entries for 0x{va:x} (a TLB conflict abort may be taken, D8.17.1)",
            new[] { $"first entry: {first}", $"second entry: {second}" }, new[] { ev }, ev, BreakReason.None));
        Flush();
    }
}
