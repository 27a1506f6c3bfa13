using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking.Traces;

/// <summary>The outcome of replaying a trace.</summary>
/// <param name="Trace">The trace replayed.</param>
/// <param name="Checker">The checker after the last event (its <see cref="BreakBeforeMakeChecker.Violations"/>).</param>
public sealed record TraceReplayResult(ParsedTrace Trace, BreakBeforeMakeChecker Checker)
{
    /// <summary>The violations found.</summary>
    public IReadOnlyList<Violation> Violations => Checker.Violations;
}

/// <summary>
/// Replays a recorded trace through a <see cref="BreakBeforeMakeChecker"/> over a fresh <see cref="PhysicalMemory"/>,
/// playing the machine's part: stores go through the memory with the storing PE, TLBIs are decoded against the
/// issuing PE's registers and delivered to the PEs their shareability reaches (all PEs for IS/OS; the issuer alone for
/// the local forms, except at EL1 with HCR_EL2.FB=1, which makes them broadcast).
/// </summary>
public static class TraceReplayer
{
    /// <summary>Replays a trace. Without <paramref name="options"/>: collect mode, the architecture policy and the trace's features (if it names them).</summary>
    /// <param name="trace">The trace.</param>
    /// <param name="options">Checker options.</param>
    /// <param name="limits">Bounds on the simulated memory the replay may back (default <see cref="TraceLimits.Default"/>).</param>
    /// <param name="progress">Called with the number of records replayed so far, every 4096 records and at the end (for a progress display).</param>
    /// <exception cref="TraceFormatException">The trace writes more distinct memory than <see cref="TraceLimits.MaxMemoryBytes"/>.</exception>
    public static TraceReplayResult Replay(ParsedTrace trace, CheckerOptions? options = null, TraceLimits? limits = null, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var lim = limits ?? TraceLimits.Default;
        lim.Validate();
        long maxFrames = lim.MaxMemoryBytes / PhysicalMemory.FrameSize;
        var opts = options ?? new CheckerOptions();
        if (options is null && trace.Features is { } f) opts = opts with { Features = f };
        var memory = new PhysicalMemory();
        var checker = BreakBeforeMakeChecker.Observe(memory, trace.PeCount, opts);
        int[] all = Enumerable.Range(0, trace.PeCount).ToArray();
        var el = new int[trace.PeCount];
        Array.Fill(el, 1);
        checker.Source = trace.Name + " (initial registers)";
        for (int pe = 0; pe < trace.PeCount; pe++)
            foreach (var kv in trace.InitialRegisters) checker.OnSystemRegisterWrite(pe, kv.Key, kv.Value);
        int replayed = 0;
        foreach (var r in trace.Records)
        {
            if (progress is not null && (++replayed & 4095) == 0) progress(replayed);
            checker.Source = $"{trace.Name}:{r.Line}";
            switch (r.Kind)
            {
                case TraceRecordKind.Store:
                    memory.WriteWord(r.Address, r.Value, WriteOrigin.Software, r.Pe);
                    break;
                case TraceRecordKind.HardwareUpdate:
                    memory.WriteWord(r.Address, r.Value, WriteOrigin.HardwareUpdate, r.Pe);
                    break;
                case TraceRecordKind.Initial:
                    memory.WriteWord(r.Address, r.Value, WriteOrigin.Software, -1);
                    break;
                case TraceRecordKind.Fill:
                    Fill(memory, r, maxFrames, trace.Name, lim);
                    break;
                case TraceRecordKind.SystemRegisterWrite:
                    checker.OnSystemRegisterWrite(r.Pe, r.Register, r.Value);
                    break;
                case TraceRecordKind.ExceptionLevel:
                    el[r.Pe] = r.ExceptionLevel;
                    checker.OnExceptionLevelChange(r.Pe, r.ExceptionLevel);
                    break;
                case TraceRecordKind.Dsb:
                    checker.OnDsb(r.Pe, r.Barrier);
                    break;
                case TraceRecordKind.Isb:
                    checker.OnIsb(r.Pe);
                    break;
                case TraceRecordKind.Tlbi:
                {
                    var scope = checker.DecodeTlbi(r.Pe, r.Op, r.Operand);
                    var info = r.Op.Info();
                    // HCR_EL2.FB=1 turns a non-shareable TLBI executed at EL1 into its Inner Shareable form (tlb-maintenance.md §2).
                    bool fb = el[r.Pe] == 1 && info.IsEl1Form && new Architecture.Hcr(checker.Register(r.Pe, SystemRegister.HcrEl2)).Fb;
                    checker.OnTlbi(r.Pe, scope, info.IsBroadcast || fb ? all : new[] { r.Pe });
                    break;
                }
                case TraceRecordKind.TableFreed:
                    checker.NotifyTablesFreed(r.Pe, new PhysicalAddress(r.Address), Math.Max(r.Size, 1));
                    break;
                case TraceRecordKind.Lock:
                    checker.OnLock(r.Pe, r.Address);
                    break;
                case TraceRecordKind.TryLock:
                    checker.OnTryLock(r.Pe, r.Address);
                    break;
                case TraceRecordKind.Unlock:
                    checker.OnUnlock(r.Pe, r.Address);
                    break;
                case TraceRecordKind.RootLock:
                    checker.SetRootLock(r.Pe, r.Address, r.Value);
                    break;
                case TraceRecordKind.OwnerRoot:
                    checker.SetOwnerRoot(r.Pe, r.Address, r.Value);
                    break;
                case TraceRecordKind.ThreadOwner:
                    checker.SetThreadOwner(r.Pe, r.Address, r.Value == TraceRecord.NoOwner ? null : (int)r.Value);
                    break;
            }
            if (memory.BackedFrames > maxFrames) throw MemoryLimit(trace.Name, r.Line, lim);
        }
        checker.Source = null;
        progress?.Invoke(trace.Records.Count);
        return new TraceReplayResult(trace, checker);
    }

    // Sets [Address, Address + Size) to the byte, storing only where the content changes. Unbacked memory reads as zero, so a
    // zero fill visits only the frames that exist, and a non-zero one stops at the memory limit: the work is bounded by
    // what exists, not by the size the trace asks for.
    private static void Fill(PhysicalMemory memory, TraceRecord r, long maxFrames, string name, TraceLimits lim)
    {
        ulong word = 0x0101_0101_0101_0101UL * (r.Value & 0xFF);
        ulong start = r.Address, end = r.Address + r.Size;
        if (end <= start) return;
        if (word != 0 && NewFrames(memory, start, end, maxFrames) > maxFrames - memory.BackedFrames) throw MemoryLimit(name, r.Line, lim);
        foreach (ulong frame in FramesToVisit(memory, start, end, word == 0))
        {
            if (word == 0 && !memory.IsBacked(frame >> 12)) continue;
            if (word != 0 && memory.BackedFrames >= maxFrames && !memory.IsBacked(frame >> 12)) throw MemoryLimit(name, r.Line, lim);
            for (ulong a = Math.Max(frame, start); a < Math.Min(frame + PhysicalMemory.FrameSize, end); a += 8)
                if (memory.ReadWord(a) != word) memory.WriteWord(a, word, WriteOrigin.Software, r.Pe);
        }
    }

    // How many frames of [start, end) are not backed yet, counted only as far as needed to tell whether they exceed the limit.
    private static long NewFrames(PhysicalMemory memory, ulong start, ulong end, long maxFrames)
    {
        ulong first = start >> 12, last = (end - 1) >> 12;
        ulong pages = last - first + 1;
        if (pages > (ulong)(memory.BackedFrames + maxFrames)) return long.MaxValue;
        long unbacked = 0;
        for (ulong f = first; f <= last; f++) if (!memory.IsBacked(f)) unbacked++;
        return unbacked;
    }

    private static IEnumerable<ulong> FramesToVisit(PhysicalMemory memory, ulong start, ulong end, bool backedOnly)
    {
        ulong first = start & ~(ulong)(PhysicalMemory.FrameSize - 1);
        ulong frames = (end - first + PhysicalMemory.FrameSize - 1) / PhysicalMemory.FrameSize;
        if (backedOnly && frames > (ulong)memory.BackedFrames)
            return memory.BackedFrameAddresses().Select(f => f.Value).Where(f => f >= first && f < end);
        return Frames(first, end);

        static IEnumerable<ulong> Frames(ulong first, ulong end)
        {
            for (ulong f = first; f < end; f += PhysicalMemory.FrameSize) yield return f;
        }
    }

    private static TraceFormatException MemoryLimit(string name, int line, TraceLimits lim)
        => new(name, line, $"the trace writes more than {TraceLimits.Mib(lim.MaxMemoryBytes)} of distinct memory (4 KiB pages; the memory limit, arm64mmu check --max-memory-mib raises it)");
}
