using System.Globalization;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Exploration;

public sealed partial class Explorer
{
    private ulong[] InitialState()
    {
        var s = new ulong[_layout.Length];
        for (int p = 0; p < _layout.Pages; p++)
        {
            s[_layout.Descriptors + p] = _machine.InitialDescriptors[p];
            DescriptorId(p, _machine.InitialDescriptors[p]);
        }
        foreach (var m in _test.Memory)
        {
            int page = _machine.IndexOf(m.Symbol);
            var v = ToValue(m.Value, m.Symbol);
            WriteCell(s, LitmusMachine.PhysicalAddressOf(page) + (ulong)m.Offset, 8, v);
        }
        foreach (var r in _test.Registers)
            WriteRegister(s, r.Thread, new LitmusRegister(r.Register, true), ToValue(r.Value, null));
        for (int t = 0; t < _layout.Threads; t++)
        {
            ulong c = StateLayout.WithFloat(0, StateLayout.NoFloat);
            c = StateLayout.WithStatus(c, _programs[t].MainLength == 0 ? RunStatus.Finished : RunStatus.Running);
            s[_layout.Control(t)] = c;
        }
        return s;
    }

    /// <summary>The machine value of a value written in the test.</summary>
    private Value ToValue(LitmusValue v, string? descriptorOf) => v.Kind switch
    {
        LitmusValueKind.Integer => Value.Int((ulong)v.Integer),
        LitmusValueKind.VirtualAddress => new Value(LitmusMachine.VirtualAddressOf(_machine.IndexOf(v.Symbol!)), LitmusValueKind.VirtualAddress),
        LitmusValueKind.DescriptorAddress => new Value(_machine.DescriptorAddresses[_machine.IndexOf(v.Symbol!)], LitmusValueKind.DescriptorAddress),
        LitmusValueKind.PhysicalAddress => new Value(LitmusMachine.PhysicalAddressOf(_machine.IndexOf(v.Symbol!)), LitmusValueKind.PhysicalAddress),
        LitmusValueKind.Descriptor => new Value(_machine.Encode(ResolveRecord(v.Pte!.Value, descriptorOf)), LitmusValueKind.Descriptor),
        LitmusValueKind.Label when v.Integer >= 0 && v.Integer < _programs.Length && _programs[v.Integer].Thread.Labels.ContainsKey(v.Symbol!)
            => new Value(LabelValue((int)v.Integer, _programs[v.Integer].Resolve(v.Symbol!)), LitmusValueKind.Label),
        _ => throw new LitmusUnsupportedException($"value {v} is not modelled here"),
    };

    private static PteValue ResolveRecord(PteValue p, string? descriptorOf)
    {
        if (p.OutputSymbol is not null) return p;
        return descriptorOf is not null ? p with { OutputSymbol = descriptorOf }
            : throw new LitmusUnsupportedException($"descriptor record {p.Format()} without oa outside a descriptor's own initial value");
    }

    private bool IsFinal(ulong[] s)
    {
        for (int t = 0; t < _layout.Threads; t++)
            if (StateLayout.Status(s[_layout.Control(t)]) == RunStatus.Running) return false;
        for (int i = 0; i < _layout.Threads * _layout.Pages; i++)
            if (s[_layout.PendingUpdates + i] != 0) return false;
        return true;
    }

    // ---- final states -----------------------------------------------------------------------------------------------

    /// <summary>A fault that happened: thread, instruction, variable, kind.</summary>
    private readonly record struct FaultRecord(int Thread, int Instruction, int Page, FaultKind Kind);

    private static ulong PackFault(int instruction, int page, FaultKind kind)
    {
        int k = kind switch { FaultKind.Translation => 0, FaultKind.AccessFlag => 1, _ => 2 };
        return 0x8000UL | ((ulong)(uint)(instruction & 0xFF) << 7) | ((ulong)(uint)(page & 0x1F) << 2) | (uint)k;
    }

    private static FaultRecord UnpackFault(int thread, ulong r)
        => new(thread, (int)((r >> 7) & 0xFF), (int)((r >> 2) & 0x1F), (r & 3) switch { 0 => FaultKind.Translation, 1 => FaultKind.AccessFlag, _ => FaultKind.Permission });

    /// <summary>Adds a fault to the thread's log (a set, as herd7's); false when the log is full.</summary>
    private bool RecordFault(ulong[] s, int t, int instruction, int page, FaultKind kind)
    {
        ulong rec = PackFault(instruction, page, kind);
        ref ulong log = ref s[_layout.FaultLog(t)];
        for (int i = 0; i < StateLayout.MaxFaultRecords; i++)
        {
            ulong r = (log >> (16 * i)) & 0xFFFF;
            if (r == rec) return true;
            if (r == 0) { log |= rec << (16 * i); return true; }
        }
        return false;
    }

    private IEnumerable<FaultRecord> Faults(ulong[] s, int t)
    {
        ulong log = s[_layout.FaultLog(t)];
        for (int i = 0; i < StateLayout.MaxFaultRecords; i++)
        {
            ulong r = (log >> (16 * i)) & 0xFFFF;
            if (r != 0) yield return UnpackFault(t, r);
        }
    }

    private static string FaultType(FaultKind k) => k switch
    {
        FaultKind.Translation => "MMU:Translation",
        FaultKind.AccessFlag => "MMU:AccessFlag",
        _ => "MMU:Permission",
    };

    private bool Matches(FaultRecord f, FaultAtom a)
    {
        if (f.Thread != a.Thread) return false;
        if (a.Label is not null && !_programs[f.Thread].Labels[f.Instruction].Contains(a.Label)) return false;
        if (a.Symbol is not null && _machine.Variables[f.Page] != a.Symbol) return false;
        return a.Type is null || a.Type == FaultType(f.Kind);
    }

    private string FormatFault(FaultRecord f)
    {
        var labels = _programs[f.Thread].Labels[f.Instruction];
        string who = "P" + f.Thread.ToString(CultureInfo.InvariantCulture);
        if (labels.Count == 1) who += ":" + labels[0];
        else if (labels.Count > 1) who += ":{" + string.Join(",", labels.Order(StringComparer.Ordinal)) + "}";
        return $"Fault({who},{_machine.Variables[f.Page]},{FaultType(f.Kind)})";
    }

    private Value ValueAt(ulong[] s, LitmusLocation l)
    {
        switch (l.Kind)
        {
            case LitmusLocationKind.Register:
            {
                int slot = _programs[l.Thread].RegisterSlot[l.Register];
                return new Value(s[_layout.Regs[l.Thread] + slot], StateLayout.Kind(s, _layout.RegKinds[l.Thread], slot));
            }
            case LitmusLocationKind.Memory:
                return ReadCell(s, LitmusMachine.PhysicalAddressOf(_machine.IndexOf(l.Symbol!)), 8);
            default:
                return new Value(s[_layout.Descriptors + _machine.IndexOf(l.Symbol!)], LitmusValueKind.Descriptor);
        }
    }

    private string Format(Value v)
    {
        switch (v.Kind)
        {
            case LitmusValueKind.Descriptor:
                return _machine.DecodeDescriptor(v.Bits)?.Format() ?? $"0x{v.Bits:x}";
            case LitmusValueKind.VirtualAddress:
            {
                int p = _machine.PageOfVirtual(v.Bits);
                if (p < 0) break;
                ulong off = v.Bits - LitmusMachine.VirtualAddressOf(p);
                return off == 0 ? _machine.Variables[p] : $"{_machine.Variables[p]}+{off}";
            }
            case LitmusValueKind.DescriptorAddress:
            {
                int p = _machine.DescriptorIndexOf(v.Bits);
                if (p >= 0) return $"PTE({_machine.Variables[p]})";
                break;
            }
            case LitmusValueKind.PhysicalAddress:
            {
                int p = _machine.PageOfPhysical(v.Bits);
                if (p >= 0) return $"PA({_machine.Variables[p]})";
                break;
            }
            case LitmusValueKind.Label:
            {
                int t = (int)(v.Bits >> 32);
                if (t < _programs.Length && _programs[t].LabelOf((int)(uint)v.Bits) is { } name) return $"label:\"P{t}:{name}\"";
                break;
            }
        }
        return ((long)v.Bits).ToString(CultureInfo.InvariantCulture);
    }

    private FinalState Observe(ulong[] s)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = new List<string>();
        foreach (var l in _printed)
        {
            string text = Format(ValueAt(s, l));
            values[l.ToString()] = text;
            parts.Add($"{l}={text};");
        }
        var faults = new List<FaultRecord>();
        for (int t = 0; t < _layout.Threads; t++) faults.AddRange(Faults(s, t));
        var shown = faults.Where(f => _printedFaults.Any(a => Matches(f, a))).Select(FormatFault).Distinct().ToList();
        foreach (var f in shown) parts.Add(f + ";");
        foreach (var a in _printedFaults)
            if (!faults.Any(f => Matches(f, a))) parts.Add("~" + a.Format() + ";");
        var view = new View(this, s, faults);
        return new FinalState(string.Join(" ", parts), _proposition.Evaluate(view), values, shown);
    }

    /// <summary>Evaluates a condition against a final state.</summary>
    private sealed class View(Explorer e, ulong[] s, List<FaultRecord> faults) : IFinalStateView
    {
        public bool Holds(LitmusLocation location, LitmusValue value)
        {
            var actual = e.ValueAt(s, location);
            if (value.Kind == LitmusValueKind.Descriptor)
            {
                if (actual.Kind != LitmusValueKind.Descriptor) return false;
                string? own = location.Kind == LitmusLocationKind.Descriptor ? location.Symbol : null;
                var rec = value.Pte!.Value;
                if (rec.OutputSymbol is null && own is null)
                    return e._machine.DecodeDescriptor(actual.Bits) is { } d && d with { OutputSymbol = null } == rec;
                return actual.Bits == e._machine.Encode(ResolveRecord(rec, own));
            }
            return actual.Bits == e.ToValue(value, null).Bits;
        }

        public bool HasFault(FaultAtom atom) => faults.Any(f => e.Matches(f, atom));
    }
}
