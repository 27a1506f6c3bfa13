using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Arm64Mmu.Exploration;

/// <summary>
/// Explores every execution of a litmus test that the simulator's model allows and collects the final states.
/// </summary>
/// <remarks>
/// <para>The model (docs/litmus.md): threads execute their instructions in program order against one sequentially
/// consistent data memory; translation is relaxed the way the Arm ARM and herd7's VMSA model (7.58) allow:</para>
/// <list type="bullet">
/// <item>A TLB may be filled from a walk at any time and keeps what it read: an access may use the descriptor value in
/// memory now, or any value the descriptor held earlier that could have been cached (no Translation or Access flag
/// fault, R_XCLRD) and has not been removed by maintenance. Eviction at any time is implicit: an access may always walk
/// afresh.</item>
/// <item>A walk for a later instruction may happen early (not across a branch, an ISB something orders before it, or
/// the loads its address depends on) and see a descriptor that is invalid or has AF=0 at that moment; that
/// instruction's fault may then be taken, early too where nothing orders it (Explorer.Early.cs).</item>
/// <item>A TLBI removes the matching entries present when it is issued (possibly before program-order-earlier
/// instructions that no DSB orders before it), once the issuer's full DSB completes it: from other PEs at that DSB,
/// from the issuer itself at its next context synchronization (ISB, exception entry or return).</item>
/// <item>Hardware Access flag and dirty-state updates are atomic read-modify-writes of the descriptor with their walk,
/// performed early (the access then uses that translation) or after the access and before the PE's next full DSB;
/// while one is pending no other write to that descriptor happens. With hardware Access flag management on, the
/// Access flag of a valid descriptor may be set at any time.</item>
/// </list>
/// <para>State space reduction: thread-local instructions run eagerly (they commute with everything), visited states
/// are hashed and merged, and TLB fills need no transitions (the TLB view is derived from the descriptor history).</para>
/// </remarks>
public sealed partial class Explorer
{
    private readonly LitmusTest _test;
    private readonly ExplorationOptions _options;
    private readonly LitmusMachine _machine;
    private readonly ThreadProgram[] _programs;
    private readonly StateLayout _layout;
    private readonly int[] _issuerIndex;
    private readonly Dictionary<ulong, int> _cellIndex = new();
    private readonly List<ulong> _cellAddress = [];
    private readonly List<ulong>[] _descriptorValues;
    private readonly Dictionary<ulong, int>[] _descriptorIds;
    private readonly LitmusProposition _proposition;
    private readonly IReadOnlyList<LitmusLocation> _printed;
    private readonly IReadOnlyList<FaultAtom> _printedFaults;

    private Explorer(LitmusTest test, ExplorationOptions options)
    {
        _test = test;
        _options = options;
        _machine = new LitmusMachine(test);
        int threads = test.Threads.Count;
        _printed = test.PrintedLocations();
        _printedFaults = test.PrintedFaults();
        _programs = new ThreadProgram[threads];
        for (int t = 0; t < threads; t++)
        {
            if (test.Threads[t].Code.Count + (test.Threads[t].Handler?.Count ?? 0) > 250) throw new LitmusUnsupportedException($"P{t} has more than 250 instructions");
            var extra = test.Registers.Where(r => r.Thread == t).Select(r => r.Register)
                .Concat(_printed.Where(l => l.Kind == LitmusLocationKind.Register && l.Thread == t).Select(l => l.Register));
            _programs[t] = new ThreadProgram(test.Threads[t], extra);
            if (_programs[t].TlbiCount > 64) throw new LitmusUnsupportedException($"P{t} has more than 64 TLBIs");
            if (_programs[t].LoopCount > 16) throw new LitmusUnsupportedException($"P{t} has more than 16 backward branches");
        }
        foreach (var l in _printed)
            if (l.Kind == LitmusLocationKind.Register && l.Thread >= threads) throw new LitmusFormatException($"{test.Name}: the condition reads {l} of a thread that does not exist");
        foreach (var f in _printedFaults)
            if (f.Thread >= threads) throw new LitmusFormatException($"{test.Name}: the condition names a fault of P{f.Thread}, which does not exist");
        _issuerIndex = new int[threads];
        int issuers = 0;
        for (int t = 0; t < threads; t++) _issuerIndex[t] = _programs[t].Instructions.Any(i => i.Opcode == LitmusOpcode.Tlbi) ? issuers++ : -1;
        int pages = _machine.Variables.Count;
        _descriptorValues = new List<ulong>[pages];
        _descriptorIds = new Dictionary<ulong, int>[pages];
        for (int p = 0; p < pages; p++) { _descriptorValues[p] = []; _descriptorIds[p] = new(); }
        int cells = Math.Min(MaxCells, pages + test.Memory.Count + 16);
        _layout = new StateLayout(cells, pages, _programs, Math.Max(issuers, 1));
        _proposition = test.Condition.Proposition;
    }

    private const int MaxCells = 64;
    private const int MaxDescriptorValues = 64;

    /// <summary>Parses and explores a test; a malformed or unsupported test gives a result with that status and the reason.</summary>
    public static ExplorationResult Run(string text, ExplorationOptions? options = null, string? fallbackName = null)
    {
        LitmusTest test;
        try { test = LitmusParser.Parse(text); }
        catch (LitmusFormatException e) { return Failed(fallbackName ?? NameOf(text), ExplorationStatus.Error, e.Message); }
        catch (LitmusUnsupportedException e) { return Failed(fallbackName ?? NameOf(text), ExplorationStatus.Unsupported, e.Message); }
        return Run(test, options);
    }

    /// <summary>Explores every execution of <paramref name="test"/>.</summary>
    public static ExplorationResult Run(LitmusTest test, ExplorationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(test);
        var sw = Stopwatch.StartNew();
        try
        {
            var explorer = new Explorer(test, options ?? new ExplorationOptions());
            return explorer.Explore(sw);
        }
        catch (LitmusUnsupportedException e) { return Failed(test.Name, ExplorationStatus.Unsupported, e.Message) with { Seconds = sw.Elapsed.TotalSeconds }; }
        catch (LitmusFormatException e) { return Failed(test.Name, ExplorationStatus.Error, e.Message) with { Seconds = sw.Elapsed.TotalSeconds }; }
    }

    private static ExplorationResult Failed(string name, ExplorationStatus status, string reason) => new() { Name = name, Status = status, Reason = reason };

    private static string NameOf(string text)
    {
        var first = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        var parts = first.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 2 ? parts[1].Trim() : "(unnamed)";
    }

    // ---- the search -------------------------------------------------------------------------------------------------

    private sealed class Frame(ulong[] state, StateKey key)
    {
        public readonly ulong[] State = state;
        public readonly StateKey Key = key;
        public List<ulong[]>? Successors;
        public int Next;
        public double Paths;
    }

    private ExplorationResult Explore(Stopwatch sw)
    {
        var finals = new Dictionary<string, FinalState>(StringComparer.Ordinal);
        var root = InitialState();
        var visited = new Dictionary<StateKey, double>();
        double executions = 0;
        // A timeout too long to count in ticks (TimeSpan.MaxValue is 2^63 ticks of 100 ns, more than 2^63 stopwatch ticks) is none.
        double budget = _options.Timeout is { } to ? Math.Max(0, to.TotalSeconds) * Stopwatch.Frequency : double.PositiveInfinity;
        long deadline = budget < long.MaxValue / 2 ? sw.ElapsedTicks + (long)budget : long.MaxValue;
        string? stopped = null;
        if (Normalize(root))
        {
            var stack = new Stack<Frame>();
            var rootKey = new StateKey(root);
            visited[rootKey] = double.NaN;
            stack.Push(new Frame(root, rootKey));
            var buffer = new List<ulong[]>();
            while (stack.Count > 0)
            {
                var f = stack.Peek();
                if (f.Successors is null)
                {
                    buffer.Clear();
                    Successors(f.State, buffer);
                    f.Successors = buffer.Count == 0 ? [] : new List<ulong[]>(buffer);
                    // A final state may still have optional steps (a spontaneous Access flag update): it ends an
                    // execution here and others continue.
                    if (IsFinal(f.State))
                    {
                        var fs = Observe(f.State);
                        finals.TryAdd(fs.Text, fs);
                        f.Paths = 1;
                    }
                }
                if (f.Next < f.Successors.Count)
                {
                    var child = f.Successors[f.Next++];
                    var key = new StateKey(child);
                    if (visited.TryGetValue(key, out double paths))
                    {
                        if (!double.IsNaN(paths)) f.Paths += paths;
                        continue;
                    }
                    if (visited.Count >= _options.MaxStates) { stopped = $"state budget of {_options.MaxStates} states reached"; break; }
                    if ((visited.Count & 1023) == 0 && sw.ElapsedTicks > deadline) { stopped = $"time budget of {_options.Timeout!.Value.TotalSeconds:0.#} s reached"; break; }
                    visited[key] = double.NaN;
                    stack.Push(new Frame(child, key));
                    continue;
                }
                stack.Pop();
                visited[f.Key] = f.Paths;
                f.Successors = null;
                if (stack.Count > 0) stack.Peek().Paths += f.Paths;
                else executions = f.Paths;
            }
        }
        var states = finals.Values.OrderBy(s => s.Text, StringComparer.Ordinal).ToList();
        int satisfied = states.Count(s => s.SatisfiesCondition);
        LitmusVerdict? verdict = stopped is not null ? null
            : satisfied == 0 ? LitmusVerdict.Never : satisfied == states.Count ? LitmusVerdict.Always : LitmusVerdict.Sometimes;
        return new ExplorationResult
        {
            Name = _test.Name,
            Status = stopped is null ? ExplorationStatus.Ok : ExplorationStatus.Timeout,
            Reason = stopped,
            Verdict = verdict,
            States = states,
            Executions = executions,
            StatesVisited = visited.Count,
            Seconds = sw.Elapsed.TotalSeconds,
        };
    }

    /// <summary>A state with its hash computed once.</summary>
    private sealed class StateKey : IEquatable<StateKey>
    {
        private readonly ulong[] _s;
        private readonly int _hash;

        public StateKey(ulong[] s)
        {
            _s = s;
            ulong h = 0x9E37_79B9_7F4A_7C15UL;
            foreach (ulong w in s) h = (h ^ w) * 0xBF58_476D_1CE4_E5B9UL + (h >> 29);
            _hash = (int)(h ^ (h >> 32));
        }

        public bool Equals(StateKey? other) => other is not null && _hash == other._hash && _s.AsSpan().SequenceEqual(other._s);
        public override bool Equals(object? obj) => obj is StateKey k && Equals(k);
        public override int GetHashCode() => _hash;
    }

    // ---- state access helpers -------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Value ReadRegister(ulong[] s, int t, LitmusRegister r)
    {
        if (r.IsZero) return Value.Int(0);
        int slot = _programs[t].RegisterSlot[r.Number];
        ulong v = s[_layout.Regs[t] + slot];
        var k = StateLayout.Kind(s, _layout.RegKinds[t], slot);
        return r.Wide ? new Value(v, k) : Value.Int(v & 0xFFFF_FFFFUL);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteRegister(ulong[] s, int t, LitmusRegister r, Value v)
    {
        if (r.IsZero) return;
        int slot = _programs[t].RegisterSlot[r.Number];
        s[_layout.Regs[t] + slot] = r.Wide ? v.Bits : v.Bits & 0xFFFF_FFFFUL;
        StateLayout.SetKind(s, _layout.RegKinds[t], slot, r.Wide ? v.Kind : LitmusValueKind.Integer);
    }

    private int CellOf(ulong pa, bool create)
    {
        if (_cellIndex.TryGetValue(pa, out int c)) return c;
        if (!create) return -1;
        if (_cellAddress.Count >= _layout.Cells) throw new LitmusUnsupportedException($"more than {_layout.Cells} distinct memory locations are accessed");
        c = _cellAddress.Count;
        _cellAddress.Add(pa);
        _cellIndex[pa] = c;
        return c;
    }

    private Value ReadCell(ulong[] s, ulong pa, int size)
    {
        int c = CellOf(pa, false);
        if (c < 0) return Value.Int(0);
        ulong v = s[_layout.CellValues + c];
        var k = StateLayout.Kind(s, _layout.CellKinds, c);
        return size == 8 ? new Value(v, k) : Value.Int(v & 0xFFFF_FFFFUL);
    }

    private void WriteCell(ulong[] s, ulong pa, int size, Value v)
    {
        int c = CellOf(pa, true);
        s[_layout.CellValues + c] = InstructionSemantics.Truncate(v.Bits, size);
        StateLayout.SetKind(s, _layout.CellKinds, c, size == 8 ? v.Kind : LitmusValueKind.Integer);
        ClearMonitors(s, pa);
    }

    private void ClearMonitors(ulong[] s, ulong pa)
    {
        for (int t = 0; t < _layout.Threads; t++)
            if (s[_layout.Monitor(t)] == pa + 1) s[_layout.Monitor(t)] = 0;
    }

    private int DescriptorId(int page, ulong value)
    {
        var ids = _descriptorIds[page];
        if (ids.TryGetValue(value, out int id)) return id;
        if (ids.Count >= MaxDescriptorValues) throw new LitmusUnsupportedException($"more than {MaxDescriptorValues} distinct values of PTE({_machine.Variables[page]})");
        id = ids.Count;
        ids[value] = id;
        _descriptorValues[page].Add(value);
        return id;
    }

    private static ulong Bit(int id) => 1UL << id;
}
