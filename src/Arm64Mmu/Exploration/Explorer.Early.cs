using Arm64Mmu.Architecture;

namespace Arm64Mmu.Exploration;

public sealed partial class Explorer
{
    /// <summary>
    /// Steps a thread takes for a program-order-later instruction j before reaching it, where herd7's VMSA model
    /// (7.58, aarch64hwreqs.cat / aarch64deps.cat) does not order j's events after the instructions in between:
    /// <list type="bullet">
    /// <item>an early walk for j that finds j's descriptor invalid (or AF=0 without hardware management): a result no TLB
    /// may hold, kept for j alone;</item>
    /// <item>an early walk for j whose result needs a hardware Access flag/dirty update: the update is made now
    /// (walk and update are one atomic read-modify-write) and j must later use the translation it produced;</item>
    /// <item>taking j's fault now (the fault event is ordered only by bob, DSB-ob, lwfs, the dependencies and ISB);</item>
    /// <item>issuing a TLBI early (a TLBI is ordered only by DSB-ob, ctrl and its operand's dependencies).</item>
    /// </list>
    /// No step crosses a branch (ctrl, no speculation of effects) or needs a register that a pending load produces (addr,
    /// data). An ISB is crossed only when nothing before it in the window is one of its IFB-ob predecessors (a translated
    /// access, a DSB, a TLBI).
    /// </summary>
    private void EarlyWalks(ulong[] s, int t, List<ulong[]> output)
    {
        ulong c = s[_layout.Control(t)];
        if (StateLayout.FloatIndex(c) != StateLayout.NoFloat) return;
        var prog = _programs[t];
        int pc = StateLayout.Pc(c);
        bool canFloat = prog.HandlerStart < 0 && (_test.Handling == FaultHandling.Fatal || !StateLayout.Reexec(c));

        int n = prog.RegisterCount;
        Span<ulong> regs = stackalloc ulong[n];
        // Per register: Certain (no pending load feeds it), Picked (its value is fixed but a pending load chose it through
        // CSEL: a pick dependency, which herd7 lets walks and faults pass but not updates and TLBIs), or Unknown.
        Span<byte> known = stackalloc byte[n];
        for (int i = 0; i < n; i++) { regs[i] = s[_layout.Regs[t] + i]; known[i] = Certain; }
        int nzcv = StateLayout.Nzcv(c);
        byte nzcvState = Certain;
        // What is pending (not yet run) between pc and the instruction considered.
        bool pendingAccess = false, pendingLoad = false, pendingStore = false, pendingTranslated = false, pendingUnknown = false;
        bool pendingTlbi = false, pendingDsb = false, floatBlocked = !canFloat, tlbiBlocked = false;
        var pendingPages = new List<int>();
        var pendingOffsets = new List<ulong>();
        // A full DSB also orders this thread's outstanding hardware updates (M events, DSB-ob) and, when it completes
        // TLBIs, every later non-implicit event after the uses of the old translations (TTD-read-ordered-before).
        bool fullDsbOrders = HasPendingUpdates(s, t) || HasDoom(s, t);

        for (int j = pc; j != ThreadProgram.End; j = prog.Next(j))
        {
            var ins = prog.Instructions[j];
            if (ins.IsMemoryAccess && TryAddress(prog, ins.Address, regs, known, out ulong addr, out bool picked))
            {
                int page = _machine.PageOfVirtual(addr);
                if (page >= 0 && _machine.DescriptorIndexOf(addr) < 0)
                {
                    // lwfs: an earlier translated access to the same page orders j's walk and update; an unknown address
                    // might be it. pob: an address picked by a pending load orders the update. At j = pc the update may
                    // still come before the access.
                    if (!pendingUnknown && !pendingPages.Contains(page) && !picked) EarlyUpdate(s, t, j, page, ins.WritesMemory, output);
                }
            }
            if (j > pc && ins.IsMemoryAccess && TryAddress(prog, ins.Address, regs, known, out addr, out _))
            {
                int page = _machine.PageOfVirtual(addr);
                if (page >= 0 && _machine.DescriptorIndexOf(addr) < 0)
                {
                    PreWalk(s, t, j, page, ins.WritesMemory, output);
                    bool operandsKnown = !ins.WritesMemory || (Known(prog, ins.Rd, known) && Known(prog, ins.Rs, known));
                    bool blocked = floatBlocked || (ins.Release && pendingAccess) || pendingUnknown || pendingPages.Contains(page);
                    // herd7 7.58 (aarch64loc.cat) makes a Translation fault "same location" as every access with the same
                    // page offset, so such an earlier access orders it (lwfs).
                    bool translationBlocked = pendingOffsets.Contains(addr & 0xFFF);
                    if (!blocked && operandsKnown) EarlyFault(s, t, j, page, ins.WritesMemory, translationBlocked, output);
                }
            }
            if (j > pc && ins.Opcode == LitmusOpcode.Tlbi && !tlbiBlocked && (!ins.HasTlbiOperand || known[prog.RegisterSlot[ins.Rn.Number]] == Certain)
                && (s[_layout.EarlyTlbis(t)] & Bit(prog.TlbiSlot[j])) == 0)
            {
                var nt = Copy(s);
                IssueTlbi(nt, t, ins, ins.HasTlbiOperand ? Reg(prog, ins.Rn, regs) : 0);
                nt[_layout.EarlyTlbis(t)] |= Bit(prog.TlbiSlot[j]);
                Emit(output, nt);
            }

            // What j means for the instructions after it.
            if (ins.IsBranch) break;
            switch (ins.Opcode)
            {
                case LitmusOpcode.Isb:
                    // IFB-ob: what a DSB orders before the ISB, and earlier walks, come before every later event.
                    if (pendingTranslated || pendingUnknown || pendingTlbi || pendingDsb) return;
                    break;
                case LitmusOpcode.Dmb: case LitmusOpcode.Dsb:
                {
                    bool orders = ins.Barrier == BarrierKind.Full ? pendingAccess || (ins.Opcode == LitmusOpcode.Dsb && (pendingTlbi || fullDsbOrders))
                        : ins.Barrier == BarrierKind.Load ? pendingLoad : pendingStore;
                    if (orders) floatBlocked = true; // bob, DSB-ob order the fault
                    if (ins.Opcode == LitmusOpcode.Dsb && orders)
                    {
                        pendingDsb = true;  // DSB-ob; [IFB]; po
                        tlbiBlocked = true; // DSB-ob orders a later TLBI
                    }
                    break;
                }
                case LitmusOpcode.Tlbi:
                    if ((s[_layout.EarlyTlbis(t)] & Bit(prog.TlbiSlot[j])) == 0) pendingTlbi = true;
                    break;
                case LitmusOpcode.Cmp:
                    nzcvState = Math.Min(State(prog, ins.Rn, known), ins.HasImmediate ? Certain : State(prog, ins.Rm, known));
                    if (nzcvState != Unknown)
                        nzcv = InstructionSemantics.Compare(Reg(prog, ins.Rn, regs), ins.HasImmediate ? (ulong)ins.Immediate : Reg(prog, ins.Rm, regs), ins.Rn.Wide);
                    break;
                case LitmusOpcode.Mov: case LitmusOpcode.Add: case LitmusOpcode.Sub: case LitmusOpcode.And: case LitmusOpcode.Orr:
                case LitmusOpcode.Eor: case LitmusOpcode.Bic: case LitmusOpcode.Lsl: case LitmusOpcode.Lsr:
                {
                    byte k = Math.Min(ins.Opcode == LitmusOpcode.Mov ? Certain : State(prog, ins.Rn, known), ins.HasImmediate ? Certain : State(prog, ins.Rm, known));
                    ulong v = k != Unknown ? InstructionSemantics.Alu(ins, Value.Int(ins.Opcode == LitmusOpcode.Mov ? 0 : Reg(prog, ins.Rn, regs)),
                        Value.Int(ins.HasImmediate ? (ulong)ins.Immediate : Reg(prog, ins.Rm, regs))).Bits : 0;
                    Set(prog, ins.Rd, v, k, regs, known);
                    break;
                }
                case LitmusOpcode.Csel:
                {
                    byte k = Math.Min(State(prog, ins.Rn, known), State(prog, ins.Rm, known));
                    ulong a = Reg(prog, ins.Rn, regs), b = Reg(prog, ins.Rm, regs);
                    ulong v = nzcvState != Unknown ? (InstructionSemantics.Holds(ins.Condition!, nzcv) ? a : b) : a;
                    if (nzcvState == Unknown) k = k != Unknown && a == b ? Math.Min(k, Picked) : Unknown;
                    else if (nzcvState == Picked && a != b) k = Math.Min(k, Picked);
                    Set(prog, ins.Rd, ins.Rd.Wide ? v : v & 0xFFFF_FFFFUL, k, regs, known);
                    break;
                }
                case LitmusOpcode.Cset:
                    Set(prog, ins.Rd, InstructionSemantics.Holds(ins.Condition!, nzcv) ? 1UL : 0UL, nzcvState, regs, known);
                    break;
                case LitmusOpcode.Adr:
                    Set(prog, ins.Rd, LabelValue(t, prog.Targets[j]), Certain, regs, known);
                    break;
            }
            if (ins.IsMemoryAccess)
            {
                pendingAccess = true;
                if (ins.ReadsMemory) pendingLoad = true;
                if (ins.WritesMemory) pendingStore = true;
                if (ins.Acquire || ins.AcquirePc) floatBlocked = true;
                if (TryAddress(prog, ins.Address, regs, known, out ulong a, out _))
                {
                    int pp = _machine.PageOfVirtual(a);
                    if (pp >= 0) pendingPages.Add(pp);
                    if (_machine.DescriptorIndexOf(a) < 0) pendingTranslated = true;
                    pendingOffsets.Add(a & 0xFFF);
                }
                else pendingUnknown = true;
                // Registers a memory instruction writes are known only once it runs.
                if (ins.ReadsMemory) Set(prog, ins.Rd, 0, Unknown, regs, known);
                if (ins.Opcode is LitmusOpcode.StoreExclusive or LitmusOpcode.CompareAndSwap) Set(prog, ins.Rs, 0, Unknown, regs, known);
            }
        }
    }

    private const byte Unknown = 0, Picked = 1, Certain = 2;

    private static byte State(ThreadProgram prog, LitmusRegister r, Span<byte> known) => r.IsZero ? Certain : known[prog.RegisterSlot[r.Number]];

    private static bool Known(ThreadProgram prog, LitmusRegister r, Span<byte> known) => State(prog, r, known) != Unknown;

    private static ulong Reg(ThreadProgram prog, LitmusRegister r, Span<ulong> regs)
    {
        if (r.IsZero) return 0;
        ulong v = regs[prog.RegisterSlot[r.Number]];
        return r.Wide ? v : v & 0xFFFF_FFFFUL;
    }

    private static void Set(ThreadProgram prog, LitmusRegister r, ulong v, byte k, Span<ulong> regs, Span<byte> known)
    {
        if (r.IsZero) return;
        int slot = prog.RegisterSlot[r.Number];
        regs[slot] = r.Wide ? v : v & 0xFFFF_FFFFUL;
        known[slot] = k;
    }

    /// <summary>The address, when its registers are fixed; <paramref name="picked"/> when a pending load picked one of them.</summary>
    private static bool TryAddress(ThreadProgram prog, LitmusAddress a, Span<ulong> regs, Span<byte> known, out ulong addr, out bool picked)
    {
        addr = 0;
        byte k = State(prog, a.Base, known);
        if (a.Index is { } x) k = Math.Min(k, State(prog, x, known));
        picked = k == Picked;
        if (k == Unknown) return false;
        addr = Reg(prog, a.Base, regs) + (ulong)a.Offset;
        if (a.Index is { } ix)
        {
            ulong iv = Reg(prog, ix, regs);
            addr += ix.Wide ? iv : a.SignExtendIndex ? (ulong)(long)(int)(uint)iv : iv & 0xFFFF_FFFFUL;
        }
        return true;
    }

    /// <summary>An early walk for instruction <paramref name="j"/> that finds a descriptor no TLB may cache.</summary>
    private void PreWalk(ulong[] s, int t, int j, int page, bool write, List<ulong[]> output)
    {
        ulong d = s[_layout.Descriptors + page];
        if (_machine.Translate(t, page, d, write).Cacheable) return; // a cacheable result is in the TLB view already
        int slot = _programs[t].AccessSlot[j];
        if (s[_layout.EarlyUpdate[t] + slot] != 0) return;
        ulong bit = Bit(DescriptorId(page, d));
        ulong mask = s[_layout.Early[t] + slot];
        if (mask != 0 && _layout.GetEarlyPage(s, t, slot) != page) return;
        if ((mask & bit) != 0 && (s[_layout.EarlyLocal[t] + slot] & bit) == 0 && !EarlyDoomed(s, t, slot, bit)) return;
        var n = Copy(s);
        n[_layout.Early[t] + slot] |= bit;
        n[_layout.EarlyLocal[t] + slot] &= ~bit;
        for (int q = 0; q < _layout.Issuers; q++) n[_layout.EarlyDoomIndex(t, slot, q)] &= ~bit;
        _layout.SetEarlyPage(n, t, slot, page);
        Emit(output, n);
    }

    private bool EarlyDoomed(ulong[] s, int t, int slot, ulong bit)
    {
        for (int q = 0; q < _layout.Issuers; q++) if ((s[_layout.EarlyDoomIndex(t, slot, q)] & bit) != 0) return true;
        return false;
    }

    /// <summary>
    /// An early walk for <paramref name="j"/> with its hardware update: the descriptor gets AF (and dirty) now, and
    /// <paramref name="j"/> will use exactly that translation.
    /// </summary>
    private void EarlyUpdate(ulong[] s, int t, int j, int page, bool write, List<ulong[]> output)
    {
        int slot = _programs[t].AccessSlot[j];
        if (s[_layout.EarlyUpdate[t] + slot] != 0 || s[_layout.Early[t] + slot] != 0 || AnyPendingUpdate(s, page)) return;
        ulong d = s[_layout.Descriptors + page];
        var o = _machine.Translate(t, page, d, write);
        if (!o.Succeeded || o.UpdatedDescriptor == 0) return;
        var n = Copy(s);
        WriteDescriptor(n, page, o.UpdatedDescriptor);
        n[_layout.EarlyUpdate[t] + slot] = (ulong)DescriptorId(page, o.UpdatedDescriptor) + 1;
        _layout.SetEarlyPage(n, t, slot, page);
        Emit(output, n);
    }

    /// <summary>Takes the fault of instruction <paramref name="j"/> now, with any translation it could use now.</summary>
    private void EarlyFault(ulong[] s, int t, int j, int page, bool write, bool noTranslationFault, List<ulong[]> output)
    {
        int slot = _programs[t].AccessSlot[j];
        if (s[_layout.EarlyUpdate[t] + slot] != 0) return;
        var kinds = new HashSet<FaultKind>();
        void Try(ulong d)
        {
            var o = _machine.Translate(t, page, d, write);
            if (!o.Succeeded && !(noTranslationFault && o.Fault == FaultKind.Translation)) kinds.Add(o.Fault);
        }
        Try(s[_layout.Descriptors + page]);
        ForEachId(s[_layout.TlbOld[t] + page], id => Try(_descriptorValues[page][id]));
        if (_layout.GetEarlyPage(s, t, slot) == page) ForEachId(s[_layout.Early[t] + slot], id => Try(_descriptorValues[page][id]));
        foreach (var k in kinds)
        {
            var n = Copy(s);
            if (!RecordFault(n, t, j, page, k)) continue;
            ClearEarly(n, t, slot);
            ulong c = StateLayout.WithFloat(n[_layout.Control(t)], j);
            if (_test.Handling == FaultHandling.Handled)
            {
                // The instruction will run again when the thread reaches it; the fault entry synchronizes context.
                c = StateLayout.WithReexec(c, true);
                n[_layout.Control(t)] = c;
                ContextSynchronize(n, t);
            }
            else n[_layout.Control(t)] = c;
            Emit(output, n);
        }
    }
}
