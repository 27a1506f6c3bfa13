using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Checking;

public sealed partial class BreakBeforeMakeChecker
{
    /// <inheritdoc/>
    public void OnSystemRegisterWrite(int pe, SystemRegister register, ulong value)
    {
        var p = Pe(pe);
        CountRegisterWrite();
        ulong old = p.Registers[register];
        var ev = Record(pe, "MSR " + SystemRegisters.ArmName(register), null, old, value);
        if ((Options.CasemateRules & CasemateRules.RegisterFields) != 0) CheckReservedFields(p, register, old, value, ev);
        p.Registers[register] = value;
        RecomputeContexts(p, ev);
        Flush();
    }

    // Which trees a PE may walk now: every enabled regime's roots (conservatively, whatever the current EL).
    private void RecomputeContexts(PeState p, TraceEvent ev)
    {
        var regs = p.Registers;
        var f = p.Features;
        var hcr = regs.HcrEl2;
        ushort vmid = regs.EffectiveVmid(f);
        p.Vmid = vmid;
        var wanted = new List<(Regime Kind, Tree Tree, ushort Asid, ushort Vmid, int Half, Mair? Mair)>();

        Stage2Regime s2;
        try { s2 = RegimeBuilder.BuildStage2(regs, f, ConfigurationPolicy.Architectural); }
        catch (ConfigurationException) { s2 = Stage2Regime.Disabled; }
        Tree? s2Tree = null;
        // A stage 2 whose every lookup faults (bad VTCR) caches nothing (R_XCLRD).
        if (s2.Enabled && s2.InvalidReason is null && !s2.BaseOutOfRange)
        {
            var g = s2.Geometry;
            s2Tree = TreeFor(new TreeKey(s2.TableBase, 2, g.Granule, g.StartLevel, g.InputBits, g.OutputBits, g.Format, g.BlockLevels, 0, null), ev, s2);
            wanted.Add((Regime.Stage2, s2Tree, 0, vmid, 0, null));
        }
        p.Stage2Tree = s2Tree;

        var el10 = Build(Regime.El10, regs, f);
        p.Stage1El10Enabled = el10 is { Enabled: true };
        if (el10 is { Enabled: true }) AddHalves(el10, el10.Asid, vmid, s2Tree);
        var el2 = Build(hcr.E2h ? Regime.El20 : Regime.El2, regs, f);
        if (el2 is { Enabled: true }) AddHalves(el2, el2.Kind.HasAsid ? el2.Asid : (ushort)0, 0, null);

        var wasLive = p.Contexts.Where(c => c.Live).ToHashSet();
        foreach (var c in p.Contexts) c.Live = false;
        var newlyLive = new List<ContextRecord>();
        foreach (var w in wanted)
        {
            var rec = p.Contexts.Find(c => c.Kind == w.Kind && c.Tree == w.Tree && c.Asid == w.Asid && c.Vmid == w.Vmid && c.Half == w.Half);
            if (rec is null)
            {
                rec = new ContextRecord { Kind = w.Kind, Tree = w.Tree, Asid = w.Asid, Vmid = w.Vmid, Half = w.Half, Mair = w.Mair };
                p.Contexts.Add(rec);
                CountContextLoaded();
            }
            rec.Live = true;
            if (!wasLive.Contains(rec)) newlyLive.Add(rec);
        }
        foreach (var rec in newlyLive)
        {
            CheckContextReuse(p, rec, ev);
            if (RootIdRules) CheckRootId(p, rec, ev);
        }

        void AddHalves(TranslationRegime r, ushort asid, ushort id, Tree? stage2)
        {
            AddHalf(r.Half0, 0);
            if (r.TwoPrivilege && r.Half1 is { } h1) AddHalf(h1, 1);

            void AddHalf(Stage1Half h, int half)
            {
                if (h.DisabledReason is not null || h.BaseOutOfRange) return;
                var g = h.Geometry;
                ulong vaBase = half == 1 ? ~((1UL << g.InputBits) - 1) : 0;
                var tree = TreeFor(new TreeKey(h.TableBase, 1, g.Granule, g.StartLevel, g.InputBits, g.OutputBits, g.Format, g.BlockLevels, vaBase, stage2), ev);
                wanted.Add((r.Kind, tree, asid, id, half, r.Mair));
            }
        }
    }

    // The tree of a root a PE loads, registered (walked) on first use.
    private Tree TreeFor(TreeKey key, TraceEvent ev, Stage2Regime? stage2Regime = null)
    {
        bool fresh = !_map.IsRegistered(key);
        var tree = _map.GetTree(key, stage2Regime);
        if (fresh && LockRules) CheckNewTreePlaces(tree, ev);
        return tree;
    }

    // RES0 fields of a translation base register written non-zero (Casemate: "TTBR0_EL2 ASID is reserved 0").
    private void CheckReservedFields(PeState p, SystemRegister register, ulong old, ulong value, TraceEvent ev)
    {
        var bad = ReservedRegisterFields.Violated(register, value, p.Registers, p.Features);
        if (bad.Count == 0) return;
        string name = SystemRegisters.ArmName(register);
        Report(new Violation(ViolationKind.ReservedFieldWritten, new[] { p.Index }, 0, old, value, 0, 0, name,
            $"PE{p.Index} wrote {name}=0x{value:x} with RES0 field(s) non-zero: {string.Join(", ", bad.Select(b => $"{b.Field} = 0x{(value & b.Mask) >> System.Numerics.BitOperations.TrailingZeroCount(b.Mask):x}"))}",
            bad.Select(b => $"{b.Field}: {b.Why}").ToArray(), new[] { ev }, ev, BreakReason.None));
    }

    private static TranslationRegime? Build(Regime kind, SystemRegisters regs, ProcessorFeatures f)
    {
        try { return RegimeBuilder.BuildStage1(kind, regs, f, ConfigurationPolicy.Architectural); }
        catch (ConfigurationException) { return null; }
    }

    // Entries are tagged by ASID/VMID, not by table address: loading other tables under an ID whose old entries the PE
    // may still hold lets those entries translate for the new tables (tlb-maintenance.md §1; R_VNRFW for cached TCR fields).
    // Two entries for one address need the new tables to hold a valid entry too; while they are empty (Linux parks TTBR0 on
    // the empty reserved_pg_dir during a context switch) the check waits for the first entry made in them.
    private void CheckContextReuse(PeState p, ContextRecord now, TraceEvent ev)
    {
        foreach (var old in p.Contexts)
        {
            if (old == now || old.Live || !old.SameIdentity(now) || old.Tree == now.Tree) continue;
            if (!MayHoldEntries(p, old)) continue;
            if (!MayHoldEntries(p, now))
            {
                p.ArmedReuse.Add((now, old, ev));
                continue;
            }
            ReportContextReuse(p, now, old, ev, ev);
        }
    }

    // A make in tables loaded under a reused ID: the first entry that may coexist with the old ones.
    private void CheckArmedReuse(EntryPosition pos, TraceEvent ev)
    {
        foreach (var p in _pes)
        {
            for (int i = p.ArmedReuse.Count - 1; i >= 0; i--)
            {
                var (now, old, loaded) = p.ArmedReuse[i];
                if (now.Tree != pos.Link.Tree) continue;
                p.ArmedReuse.RemoveAt(i);
                if (now.Live && p.Contexts.Contains(now) && p.Contexts.Contains(old) && MayHoldEntries(p, old) && CanReach(p.Index, pos.Link))
                    ReportContextReuse(p, now, old, loaded, ev);
            }
        }
    }

    private void ReportContextReuse(PeState p, ContextRecord now, ContextRecord old, TraceEvent loaded, TraceEvent ev)
    {
        string id = now.Kind.IsStage2 ? $"VMID {now.Vmid}"
            : now.Kind == Regime.El2 ? "the EL2 regime (no ASIDs)"
            : now.Kind == Regime.El20 ? $"ASID {now.Asid}"
            : $"ASID {now.Asid}, VMID {now.Vmid}";
        string what = old.Tree.Key.Root == now.Tree.Key.Root ? "the same tables walked with another geometry (TCR/VTCR changed)" : $"the tables at 0x{old.Tree.Key.Root:x}";
        ulong first = now.Tree.Key.VaBase, last = first + ((1UL << now.Tree.Geometry.InputBits) - 1);
        Report(new Violation(ViolationKind.ContextReusedWithoutInvalidation, new[] { p.Index }, now.Tree.Key.Root, old.Tree.Key.Root, now.Tree.Key.Root,
            first, last, now.Describe(),
            $"PE{p.Index} now walks the tables at 0x{now.Tree.Key.Root:x} under {id}, but may still hold entries of {id} from {what}: invalidate the {(now.Kind.IsStage2 ? "VMID (TLBI VMALLS12E1IS)" : now.Kind == Regime.El2 ? "regime (TLBI ALLE2)" : "ASID (TLBI ASIDE1IS)")} before reusing it",
            new[] { $"old context: {old.Describe()}, {old.Tree}", $"new context: {now.Describe()}, {now.Tree}" },
            Merge(new[] { loaded }, ev), ev, BreakReason.None));
    }

    private bool MayHoldEntries(PeState p, ContextRecord r)
    {
        if (_outstanding.Exists(o => o.Pe == p.Index && o.Context == r)) return true;
        ulong? root = _map.Resolve(r.Tree, r.Tree.Key.Root);
        if (root is null) return false;
        var g = r.Tree.Geometry;
        for (ulong off = 0; off < g.InitialTableBytes; off += 8)
            if (ReverseMap.TypeOf(_memory.ReadWord(root.Value + off), g.StartLevel, g) != DescriptorType.Invalid) return true;
        return false;
    }
}
