using Arm64Mmu.Architecture;

namespace Arm64Mmu.Exploration;

public sealed partial class Explorer
{
    /// <summary>
    /// Steps that act for a program-order-later instruction j of thread <paramref name="t"/> before the thread reaches it:
    /// <list type="bullet">
    /// <item>an early walk for j that finds j's descriptor invalid (or AF=0 without hardware management) — a result no
    /// TLB may hold, kept for j alone. herd7 orders a walk only after a branch or ISB before it (IFB-ob, ctrl) and after
    /// the loads its address depends on; DMB, DSB (without FEAT_ETS2) and acquire do not order walks.</item>
    /// <item>taking j's fault early (fatal faults only). herd7 orders a fault after barriers covering program-order-earlier
    /// accesses (bob, DSB-ob), acquires, after every earlier access when j is a release, after the loads its operands
    /// depend on, and (as the public catalogue's answers show) after earlier accesses to the same page.</item>
    /// </list>
    /// </summary>
    private void EarlyWalks(ulong[] s, int t, List<ulong[]> output)
    {
        ulong c = s[_layout.Control(t)];
        if (StateLayout.FloatIndex(c) != StateLayout.NoFloat) return;
        var prog = _programs[t];
        int pc = StateLayout.Pc(c);
        bool fatal = prog.HandlerStart < 0 && _test.Handling == FaultHandling.Fatal;

        int n = prog.RegisterCount;
        Span<ulong> regs = stackalloc ulong[n];
        Span<bool> known = stackalloc bool[n];
        for (int i = 0; i < n; i++) { regs[i] = s[_layout.Regs[t] + i]; known[i] = true; }
        int nzcv = StateLayout.Nzcv(c);
        bool nzcvKnown = true;
        bool pendingAccess = false, pendingLoad = false, pendingStore = false, pendingTlbi = false, floatBlocked = !fatal;
        var pendingPages = new List<int>();
        var pendingOffsets = new List<ulong>();
        bool pendingPageUnknown = false;

        for (int j = pc; j != ThreadProgram.End; j = prog.Next(j))
        {
            var ins = prog.Instructions[j];
            if (j > pc && ins.IsMemoryAccess && TryAddress(prog, ins.Address, regs, known, out ulong addr))
            {
                int page = _machine.PageOfVirtual(addr);
                if (page >= 0 && _machine.DescriptorIndexOf(addr) < 0)
                {
                    PreWalk(s, t, j, page, ins.WritesMemory, output);
                    bool operandsKnown = !ins.WritesMemory || (Known(prog, ins.Rd, known) && Known(prog, ins.Rs, known));
                    bool blocked = floatBlocked || (ins.Release && pendingAccess) || pendingPageUnknown || pendingPages.Contains(page);
                    // herd7 7.58 (aarch64loc.cat) makes a Translation fault "same location" as every access with the same
                    // page offset, so such an earlier access orders it (lwfs).
                    bool translationBlocked = pendingOffsets.Contains(addr & 0xFFF);
                    if (!blocked && operandsKnown) EarlyFault(s, t, j, page, ins.WritesMemory, translationBlocked, output);
                }
            }
            // What j means for the instructions after it.
            if (ins.IsBranch || ins.Opcode == LitmusOpcode.Isb) break;
            switch (ins.Opcode)
            {
                case LitmusOpcode.Dmb: case LitmusOpcode.Dsb:
                    if (ins.Barrier == BarrierKind.Full ? pendingAccess || (ins.Opcode == LitmusOpcode.Dsb && pendingTlbi)
                        : ins.Barrier == BarrierKind.Load ? pendingLoad : pendingStore) floatBlocked = true;
                    break;
                case LitmusOpcode.Tlbi:
                    pendingTlbi = true;
                    break;
                case LitmusOpcode.Cmp:
                    if (Known(prog, ins.Rn, known) && (ins.HasImmediate || Known(prog, ins.Rm, known)))
                        nzcv = InstructionSemantics.Compare(Reg(prog, ins.Rn, regs), ins.HasImmediate ? (ulong)ins.Immediate : Reg(prog, ins.Rm, regs), ins.Rn.Wide);
                    else nzcvKnown = false;
                    break;
                case LitmusOpcode.Mov: case LitmusOpcode.Add: case LitmusOpcode.Sub: case LitmusOpcode.And: case LitmusOpcode.Orr:
                case LitmusOpcode.Eor: case LitmusOpcode.Bic: case LitmusOpcode.Lsl: case LitmusOpcode.Lsr:
                {
                    bool k = (ins.Opcode == LitmusOpcode.Mov || Known(prog, ins.Rn, known)) && (ins.HasImmediate || Known(prog, ins.Rm, known));
                    ulong v = k ? InstructionSemantics.Alu(ins, Value.Int(ins.Opcode == LitmusOpcode.Mov ? 0 : Reg(prog, ins.Rn, regs)),
                        Value.Int(ins.HasImmediate ? (ulong)ins.Immediate : Reg(prog, ins.Rm, regs))).Bits : 0;
                    Set(prog, ins.Rd, v, k, regs, known);
                    break;
                }
                case LitmusOpcode.Csel:
                {
                    bool k = nzcvKnown && Known(prog, ins.Rn, known) && Known(prog, ins.Rm, known);
                    ulong v = k ? (InstructionSemantics.Holds(ins.Condition!, nzcv) ? Reg(prog, ins.Rn, regs) : Reg(prog, ins.Rm, regs)) : 0;
                    Set(prog, ins.Rd, ins.Rd.Wide ? v : v & 0xFFFF_FFFFUL, k, regs, known);
                    break;
                }
                case LitmusOpcode.Cset:
                    Set(prog, ins.Rd, InstructionSemantics.Holds(ins.Condition!, nzcv) ? 1UL : 0UL, nzcvKnown, regs, known);
                    break;
                case LitmusOpcode.Adr:
                    Set(prog, ins.Rd, (ulong)(uint)prog.Targets[j], true, regs, known);
                    break;
            }
            if (ins.IsMemoryAccess)
            {
                pendingAccess = true;
                if (ins.ReadsMemory) pendingLoad = true;
                if (ins.WritesMemory) pendingStore = true;
                if (ins.Acquire || ins.AcquirePc) floatBlocked = true;
                if (TryAddress(prog, ins.Address, regs, known, out ulong a))
                {
                    if (_machine.PageOfVirtual(a) is int pp && pp >= 0) pendingPages.Add(pp);
                    pendingOffsets.Add(a & 0xFFF);
                }
                else pendingPageUnknown = true;
                // Registers a memory instruction writes are known only once it runs.
                if (ins.ReadsMemory) Set(prog, ins.Rd, 0, false, regs, known);
                if (ins.Opcode is LitmusOpcode.StoreExclusive or LitmusOpcode.CompareAndSwap) Set(prog, ins.Rs, 0, false, regs, known);
            }
        }
    }

    private static bool Known(ThreadProgram prog, LitmusRegister r, Span<bool> known) => r.IsZero || known[prog.RegisterSlot[r.Number]];

    private static ulong Reg(ThreadProgram prog, LitmusRegister r, Span<ulong> regs)
    {
        if (r.IsZero) return 0;
        ulong v = regs[prog.RegisterSlot[r.Number]];
        return r.Wide ? v : v & 0xFFFF_FFFFUL;
    }

    private static void Set(ThreadProgram prog, LitmusRegister r, ulong v, bool k, Span<ulong> regs, Span<bool> known)
    {
        if (r.IsZero) return;
        int slot = prog.RegisterSlot[r.Number];
        regs[slot] = r.Wide ? v : v & 0xFFFF_FFFFUL;
        known[slot] = k;
    }

    private static bool TryAddress(ThreadProgram prog, LitmusAddress a, Span<ulong> regs, Span<bool> known, out ulong addr)
    {
        addr = 0;
        if (!Known(prog, a.Base, known)) return false;
        addr = Reg(prog, a.Base, regs) + (ulong)a.Offset;
        if (a.Index is { } x)
        {
            if (!Known(prog, x, known)) return false;
            ulong iv = Reg(prog, x, regs);
            addr += x.Wide ? iv : a.SignExtendIndex ? (ulong)(long)(int)(uint)iv : iv & 0xFFFF_FFFFUL;
        }
        return true;
    }

    /// <summary>An early walk for instruction <paramref name="j"/> that finds a descriptor no TLB may cache.</summary>
    private void PreWalk(ulong[] s, int t, int j, int page, bool write, List<ulong[]> output)
    {
        ulong d = s[_layout.Descriptors + page];
        if (_machine.Translate(t, page, d, write).Cacheable) return; // a cacheable result is in the TLB view already
        int slot = _programs[t].AccessSlot[j];
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

    /// <summary>Takes the fault of instruction <paramref name="j"/> now, with any translation it could use now.</summary>
    private void EarlyFault(ulong[] s, int t, int j, int page, bool write, bool noTranslationFault, List<ulong[]> output)
    {
        var kinds = new HashSet<FaultKind>();
        void Try(ulong d)
        {
            var o = _machine.Translate(t, page, d, write);
            if (!o.Succeeded && !(noTranslationFault && o.Fault == FaultKind.Translation)) kinds.Add(o.Fault);
        }
        Try(s[_layout.Descriptors + page]);
        ForEachId(s[_layout.TlbOld[t] + page], id => Try(_descriptorValues[page][id]));
        int slot = _programs[t].AccessSlot[j];
        if (_layout.GetEarlyPage(s, t, slot) == page) ForEachId(s[_layout.Early[t] + slot], id => Try(_descriptorValues[page][id]));
        foreach (var k in kinds)
        {
            var n = Copy(s);
            if (!RecordFault(n, t, j, page, k)) continue;
            ClearEarly(n, t, slot);
            n[_layout.Control(t)] = StateLayout.WithFloat(n[_layout.Control(t)], j);
            Emit(output, n);
        }
    }
}
