using Arm64Mmu.Architecture;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Exploration;

public sealed partial class Explorer
{
    private static readonly TlbiContext El1Context = new(E2h: false, Tge: false, Vmid: 0, Ds: false);

    // ---- thread-local steps, run eagerly -----------------------------------------------------------------------------

    /// <summary>Runs every thread's local instructions (they commute with every other step); false when a loop bound cuts the execution.</summary>
    private bool Normalize(ulong[] s)
    {
        for (int t = 0; t < _layout.Threads; t++)
        {
            int guard = 0;
            while (true)
            {
                int r = TryLocalStep(s, t);
                if (r < 0) return false;
                if (r == 0) break;
                if (++guard > 100_000) throw new LitmusUnsupportedException($"P{t} runs a local loop that never ends");
            }
        }
        return true;
    }

    /// <summary>1 when a local instruction ran, 0 when the next step is not local, −1 when the execution is cut.</summary>
    private int TryLocalStep(ulong[] s, int t)
    {
        ulong c = s[_layout.Control(t)];
        if (StateLayout.Status(c) != RunStatus.Running) return 0;
        int pc = StateLayout.Pc(c);
        var prog = _programs[t];
        if (StateLayout.FloatIndex(c) == pc)
        {
            // The fault of this instruction was taken early: a fatal fault ends the thread here; a handled one runs it again.
            s[_layout.Control(t)] = prog.HandlerStart < 0 && _test.Handling == FaultHandling.Handled
                ? StateLayout.WithFloat(c, StateLayout.NoFloat)
                : StateLayout.WithStatus(c, RunStatus.Stopped);
            return prog.HandlerStart < 0 && _test.Handling == FaultHandling.Handled ? 1 : 0;
        }
        var ins = prog.Instructions[pc];
        switch (ins.Opcode)
        {
            case LitmusOpcode.Tlbi when (s[_layout.EarlyTlbis(t)] & Bit(prog.TlbiSlot[pc])) != 0:
                s[_layout.EarlyTlbis(t)] &= ~Bit(prog.TlbiSlot[pc]); // issued early already
                return Advance(s, t, pc);
            case LitmusOpcode.Mov: case LitmusOpcode.Add: case LitmusOpcode.Sub: case LitmusOpcode.And: case LitmusOpcode.Orr:
            case LitmusOpcode.Eor: case LitmusOpcode.Bic: case LitmusOpcode.Lsl: case LitmusOpcode.Lsr:
                WriteRegister(s, t, ins.Rd, InstructionSemantics.Alu(ins, ins.Opcode == LitmusOpcode.Mov ? default : ReadRegister(s, t, ins.Rn), Source(s, t, ins)));
                return Advance(s, t, pc);
            case LitmusOpcode.Cmp:
                s[_layout.Control(t)] = StateLayout.WithNzcv(c, InstructionSemantics.Compare(ReadRegister(s, t, ins.Rn).Bits, Source(s, t, ins).Bits, ins.Rn.Wide));
                return Advance(s, t, pc);
            case LitmusOpcode.Csel:
            {
                var v = InstructionSemantics.Holds(ins.Condition!, StateLayout.Nzcv(c)) ? ReadRegister(s, t, ins.Rn) : ReadRegister(s, t, ins.Rm);
                WriteRegister(s, t, ins.Rd, v);
                return Advance(s, t, pc);
            }
            case LitmusOpcode.Cset:
                WriteRegister(s, t, ins.Rd, Value.Int(InstructionSemantics.Holds(ins.Condition!, StateLayout.Nzcv(c)) ? 1UL : 0UL));
                return Advance(s, t, pc);
            case LitmusOpcode.Adr:
                WriteRegister(s, t, ins.Rd, new Value(LabelValue(t, prog.Targets[pc]), LitmusValueKind.Label));
                return Advance(s, t, pc);
            case LitmusOpcode.MsrElr:
            {
                var v = ReadRegister(s, t, ins.Rn);
                s[_layout.Elr(t)] = v.Bits;
                s[_layout.Control(t)] = StateLayout.WithElrKind(c, v.Kind);
                return Advance(s, t, pc);
            }
            case LitmusOpcode.Nop: case LitmusOpcode.Dmb:
                return Advance(s, t, pc);
            case LitmusOpcode.Isb:
                ContextSynchronize(s, t);
                return Advance(s, t, pc);
            case LitmusOpcode.Dsb:
                if (ins.Barrier == BarrierKind.Full && (HasDoom(s, t) || HasPendingUpdates(s, t))) return 0;
                return Advance(s, t, pc);
            case LitmusOpcode.B:
                return Jump(s, t, pc);
            case LitmusOpcode.BCond:
                return InstructionSemantics.Holds(ins.Condition!, StateLayout.Nzcv(c)) ? Jump(s, t, pc) : Advance(s, t, pc);
            case LitmusOpcode.Cbz: case LitmusOpcode.Cbnz:
            {
                bool zero = ReadRegister(s, t, ins.Rn).Bits == 0;
                return zero == (ins.Opcode == LitmusOpcode.Cbz) ? Jump(s, t, pc) : Advance(s, t, pc);
            }
            case LitmusOpcode.Eret:
                return ExceptionReturn(s, t);
            default:
                return 0;
        }
    }

    /// <summary>A code address as a register value: thread in the high word, instruction index in the low word.</summary>
    private static ulong LabelValue(int t, int index) => ((ulong)(uint)t << 32) | (uint)index;

    private Value Source(ulong[] s, int t, LitmusInstruction ins) => ins.HasImmediate ? Value.Int((ulong)ins.Immediate) : ReadRegister(s, t, ins.Rm);

    private int Advance(ulong[] s, int t, int pc)
    {
        ulong c = s[_layout.Control(t)];
        int next = _programs[t].Next(pc);
        s[_layout.Control(t)] = next == ThreadProgram.End ? StateLayout.WithStatus(c, RunStatus.Finished) : StateLayout.WithPc(c, next);
        return 1;
    }

    private int Jump(ulong[] s, int t, int pc)
    {
        var prog = _programs[t];
        int loop = prog.LoopSlot[pc];
        if (loop >= 0)
        {
            ref ulong w = ref s[_layout.Loops(t)];
            int sh = 4 * (loop % 16);
            ulong n = ((w >> sh) & 0xF) + 1;
            if (n > (ulong)_options.LoopUnroll) return -1; // herd7 -unroll: longer executions are not considered
            w = (w & ~(0xFUL << sh)) | (n << sh);
        }
        ulong c = s[_layout.Control(t)];
        int target = prog.Targets[pc];
        s[_layout.Control(t)] = target == ThreadProgram.End ? StateLayout.WithStatus(c, RunStatus.Finished) : StateLayout.WithPc(c, target);
        return 1;
    }

    private int ExceptionReturn(ulong[] s, int t)
    {
        ulong c = s[_layout.Control(t)];
        if (StateLayout.ElrKind(c) != LitmusValueKind.Label) throw new LitmusUnsupportedException($"P{t}: ERET to an ELR_EL1 that does not hold a code label");
        int target = (int)(uint)s[_layout.Elr(t)];
        ContextSynchronize(s, t);
        c = StateLayout.WithInHandler(s[_layout.Control(t)], false);
        s[_layout.Control(t)] = target == ThreadProgram.End ? StateLayout.WithStatus(c, RunStatus.Finished) : StateLayout.WithPc(c, target);
        return 1;
    }

    /// <summary>
    /// A context synchronization event (ISB, exception entry or return): entries removed by this PE's own completed
    /// TLBIs stop being usable (herd7 orders the issuer's walks after its TLBI only through DSB then ISB; Arm ARM R_BLDZX).
    /// </summary>
    private void ContextSynchronize(ulong[] s, int t)
    {
        for (int p = 0; p < _layout.Pages; p++)
        {
            s[_layout.TlbOld[t] + p] &= ~s[_layout.LocalDrop[t] + p];
            s[_layout.LocalDrop[t] + p] = 0;
        }
        for (int a = 0; a < _programs[t].AccessCount; a++)
        {
            s[_layout.Early[t] + a] &= ~s[_layout.EarlyLocal[t] + a];
            s[_layout.EarlyLocal[t] + a] = 0;
        }
    }

    private bool HasDoom(ulong[] s, int t)
    {
        int q = _issuerIndex[t];
        if (q < 0) return false;
        for (int u = 0; u < _layout.Threads; u++)
        {
            for (int p = 0; p < _layout.Pages; p++) if (s[_layout.DoomIndex(u, p, q)] != 0) return true;
            for (int a = 0; a < _programs[u].AccessCount; a++) if (s[_layout.EarlyDoomIndex(u, a, q)] != 0) return true;
        }
        return false;
    }

    private bool HasPendingUpdates(ulong[] s, int t)
    {
        for (int p = 0; p < _layout.Pages; p++) if (s[_layout.Pending(t, p)] != 0) return true;
        return false;
    }

    private bool AnyPendingUpdate(ulong[] s, int page)
    {
        for (int t = 0; t < _layout.Threads; t++) if (s[_layout.Pending(t, page)] != 0) return true;
        return false;
    }

    // ---- global steps -----------------------------------------------------------------------------------------------

    private void Successors(ulong[] s, List<ulong[]> output)
    {
        for (int t = 0; t < _layout.Threads; t++)
        {
            ulong c = s[_layout.Control(t)];
            if (StateLayout.Status(c) == RunStatus.Running)
            {
                int pc = StateLayout.Pc(c);
                var ins = _programs[t].Instructions[pc];
                if (ins.IsMemoryAccess) Access(s, t, pc, ins, output);
                else if (ins.Opcode == LitmusOpcode.Tlbi) Emit(output, Tlbi(Copy(s), t, pc, ins));
                else if (ins.Opcode == LitmusOpcode.Dsb && !HasPendingUpdates(s, t)) Emit(output, CompleteDsb(Copy(s), t, pc));
                EarlyWalks(s, t, output);
            }
            for (int p = 0; p < _layout.Pages; p++)
            {
                ulong update = s[_layout.Pending(t, p)];
                if (update == 0) continue;
                var n = Copy(s);
                n[_layout.Pending(t, p)] = 0;
                WriteDescriptor(n, p, update);
                Emit(output, n);
            }
        }
        if (_machine.AnyHardwareAccessFlag)
        {
            // With hardware Access flag management the flag of a valid descriptor may be set at any time, as an
            // atomic update of the value last written (Arm ARM D8.4.2; herd7's spurious AF updates).
            for (int p = 0; p < _layout.Pages; p++)
            {
                ulong d = s[_layout.Descriptors + p];
                if ((d & Descriptor.Valid) == 0 || (d & Descriptor.Af) != 0 || AnyPendingUpdate(s, p)) continue;
                var n = Copy(s);
                WriteDescriptor(n, p, d | Descriptor.Af);
                Emit(output, n);
            }
        }
    }

    private static ulong[] Copy(ulong[] s) => (ulong[])s.Clone();

    private void Emit(List<ulong[]> output, ulong[]? s)
    {
        if (s is not null && Normalize(s)) output.Add(s);
    }

    /// <summary>Writes a descriptor: the value it held stays usable from TLBs that could have cached it.</summary>
    private void WriteDescriptor(ulong[] s, int page, ulong value)
    {
        ulong old = s[_layout.Descriptors + page];
        ClearMonitors(s, _machine.DescriptorAddresses[page]);
        if (old == value) return;
        DescriptorId(page, value);
        ulong bit = Bit(DescriptorId(page, old));
        for (int t = 0; t < _layout.Threads; t++)
        {
            // The old value could have been filled into this PE's TLB just before the write, after any TLBI so far.
            if (!_machine.Translate(t, page, old, false).Cacheable) continue;
            s[_layout.TlbOld[t] + page] |= bit;
            s[_layout.LocalDrop[t] + page] &= ~bit;
            for (int q = 0; q < _layout.Issuers; q++) s[_layout.DoomIndex(t, page, q)] &= ~bit;
        }
        s[_layout.Descriptors + page] = value;
    }

    private ulong EffectiveAddress(ulong[] s, int t, LitmusAddress a)
    {
        ulong addr = ReadRegister(s, t, a.Base).Bits + (ulong)a.Offset;
        if (a.Index is { } x)
        {
            var iv = ReadRegister(s, t, x);
            addr += x.Wide ? iv.Bits : a.SignExtendIndex ? (ulong)(long)(int)(uint)iv.Bits : iv.Bits & 0xFFFF_FFFFUL;
        }
        return addr;
    }

    // ---- memory accesses --------------------------------------------------------------------------------------------

    private void Access(ulong[] s, int t, int pc, LitmusInstruction ins, List<ulong[]> output)
    {
        ulong addr = EffectiveAddress(s, t, ins.Address);
        int dp = _machine.DescriptorIndexOf(addr);
        if (dp >= 0)
        {
            DescriptorAccess(s, t, pc, ins, dp, output);
            return;
        }
        int page = _machine.PageOfVirtual(addr);
        if (page < 0) throw new LitmusUnsupportedException($"P{t}: '{ins.Text}' accesses 0x{addr:x}, which is not a variable's page");
        bool write = ins.WritesMemory;
        ulong current = s[_layout.Descriptors + page];
        var seen = new HashSet<TranslationOutcome>();
        int slot = _programs[t].AccessSlot[pc];
        ulong reserved = s[_layout.EarlyUpdate[t] + slot];
        if (reserved != 0)
        {
            // An early walk already made this access's hardware update: it uses that translation, if still held.
            int id = (int)reserved - 1;
            if (_layout.GetEarlyPage(s, t, slot) == page && (_descriptorValues[page][id] == current || (s[_layout.TlbOld[t] + page] & Bit(id)) != 0))
                TryTranslation(_descriptorValues[page][id]);
            return;
        }
        TryTranslation(current);
        ForEachId(s[_layout.TlbOld[t] + page], id => TryTranslation(_descriptorValues[page][id]));
        if (_layout.GetEarlyPage(s, t, slot) == page) ForEachId(s[_layout.Early[t] + slot], id => TryTranslation(_descriptorValues[page][id]));

        void TryTranslation(ulong d)
        {
            var o = _machine.Translate(t, page, d, write);
            // A hardware update is a compare-and-swap on the descriptor: only with the value still in memory, and not
            // while another update of it is outstanding (herd7: the walk and its update are one atomic rmw).
            if (o.Succeeded && o.UpdatedDescriptor != 0 && (d != current || AnyPendingUpdate(s, page))) return;
            if (!seen.Add(o)) return;
            if (o.Succeeded) DataAccess(s, t, pc, ins, o.PhysicalAddress, page, o.UpdatedDescriptor, output);
            else Emit(output, Fault(Copy(s), t, pc, page, o.Fault));
        }
    }

    private static void ForEachId(ulong mask, Action<int> f)
    {
        while (mask != 0)
        {
            int id = System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            f(id);
        }
    }

    private void DataAccess(ulong[] s0, int t, int pc, LitmusInstruction ins, ulong pa, int page, ulong update, List<ulong[]> output)
    {
        int size = ins.AccessSize;
        if (ins.Opcode == LitmusOpcode.StoreExclusive)
        {
            // A store-exclusive may always fail; it succeeds only while this PE's monitor still covers the location.
            var fail = Copy(s0);
            WriteRegister(fail, t, ins.Rs, Value.Int(1));
            fail[_layout.Monitor(t)] = 0;
            Emit(output, Finish(fail, t, pc, page, update));
            if (s0[_layout.Monitor(t)] != pa + 1) return;
            var ok = Copy(s0);
            ok[_layout.Monitor(t)] = 0;
            WriteCell(ok, pa, size, ReadRegister(ok, t, ins.Rd));
            WriteRegister(ok, t, ins.Rs, Value.Int(0));
            Emit(output, Finish(ok, t, pc, page, update));
            return;
        }
        var s = Copy(s0);
        switch (ins.Opcode)
        {
            case LitmusOpcode.Load:
                WriteRegister(s, t, ins.Rd, ReadCell(s, pa, size));
                break;
            case LitmusOpcode.LoadExclusive:
                WriteRegister(s, t, ins.Rd, ReadCell(s, pa, size));
                s[_layout.Monitor(t)] = pa + 1;
                break;
            case LitmusOpcode.Store:
                WriteCell(s, pa, size, ReadRegister(s, t, ins.Rd));
                break;
            default:
            {
                var old = ReadCell(s, pa, size);
                var nv = ReadModifyWrite(s, t, ins, old, size);
                if (nv is { } w) WriteCell(s, pa, size, w);
                break;
            }
        }
        Emit(output, Finish(s, t, pc, page, update));
    }

    /// <summary>SWP, CAS and the LSE atomics: the value to write (null for a CAS that fails), setting the result register.</summary>
    private Value? ReadModifyWrite(ulong[] s, int t, LitmusInstruction ins, Value old, int size)
    {
        Value? write;
        switch (ins.Opcode)
        {
            case LitmusOpcode.Swap:
                write = ReadRegister(s, t, ins.Rs);
                WriteRegister(s, t, ins.Rd, old);
                break;
            case LitmusOpcode.CompareAndSwap:
            {
                var expected = ReadRegister(s, t, ins.Rs);
                write = InstructionSemantics.Truncate(old.Bits, size) == InstructionSemantics.Truncate(expected.Bits, size) ? ReadRegister(s, t, ins.Rd) : null;
                WriteRegister(s, t, ins.Rs, old);
                break;
            }
            default:
            {
                var operand = ReadRegister(s, t, ins.Rs);
                ulong r = InstructionSemantics.Truncate(InstructionSemantics.Atomic(ins.Atomic, old.Bits, operand.Bits), size);
                write = new Value(r, old.Kind == LitmusValueKind.Descriptor && operand.Kind == LitmusValueKind.Integer ? LitmusValueKind.Descriptor : LitmusValueKind.Integer);
                if (ins.Opcode == LitmusOpcode.AtomicLoad) WriteRegister(s, t, ins.Rd, old);
                break;
            }
        }
        return write;
    }

    /// <summary>After a successful access: the pending hardware update, the early walks of this instruction consumed, next instruction.</summary>
    private ulong[] Finish(ulong[] s, int t, int pc, int page, ulong update)
    {
        if (update != 0) s[_layout.Pending(t, page)] = update;
        int slot = _programs[t].AccessSlot[pc];
        ClearEarly(s, t, slot);
        Advance(s, t, pc);
        return s;
    }

    private void ClearEarly(ulong[] s, int t, int slot)
    {
        s[_layout.Early[t] + slot] = 0;
        s[_layout.EarlyUpdate[t] + slot] = 0;
        s[_layout.EarlyLocal[t] + slot] = 0;
        for (int q = 0; q < _layout.Issuers; q++) s[_layout.EarlyDoomIndex(t, slot, q)] = 0;
    }

    /// <summary>An explicit access to a descriptor (herd7 accesses page tables without translation).</summary>
    private void DescriptorAccess(ulong[] s0, int t, int pc, LitmusInstruction ins, int page, List<ulong[]> output)
    {
        if (_test.AtEl0[t]) throw new LitmusUnsupportedException($"P{t} runs at EL0 and accesses a descriptor ('{ins.Text}'): the EL0 page-table access fault is not modelled");
        if (ins.AccessSize != 8) throw new LitmusUnsupportedException($"P{t}: '{ins.Text}' is a 32-bit access to a descriptor");
        if (ins.WritesMemory && AnyPendingUpdate(s0, page)) return; // the hardware update goes first
        ulong dpa = _machine.DescriptorAddresses[page];
        var old = new Value(s0[_layout.Descriptors + page], LitmusValueKind.Descriptor);
        if (ins.Opcode == LitmusOpcode.StoreExclusive)
        {
            var fail = Copy(s0);
            WriteRegister(fail, t, ins.Rs, Value.Int(1));
            fail[_layout.Monitor(t)] = 0;
            Emit(output, Finish(fail, t, pc, page, 0));
            if (s0[_layout.Monitor(t)] != dpa + 1) return;
            var ok = Copy(s0);
            ok[_layout.Monitor(t)] = 0;
            WriteDescriptor(ok, page, ReadRegister(ok, t, ins.Rd).Bits);
            WriteRegister(ok, t, ins.Rs, Value.Int(0));
            Emit(output, Finish(ok, t, pc, page, 0));
            return;
        }
        var s = Copy(s0);
        switch (ins.Opcode)
        {
            case LitmusOpcode.Load:
                WriteRegister(s, t, ins.Rd, old);
                break;
            case LitmusOpcode.LoadExclusive:
                WriteRegister(s, t, ins.Rd, old);
                s[_layout.Monitor(t)] = dpa + 1;
                break;
            case LitmusOpcode.Store:
                WriteDescriptor(s, page, ReadRegister(s, t, ins.Rd).Bits);
                break;
            default:
                if (ReadModifyWrite(s, t, ins, old, 8) is { } w) WriteDescriptor(s, page, w.Bits);
                break;
        }
        Emit(output, Finish(s, t, pc, page, 0));
    }

    /// <summary>The access at <paramref name="pc"/> faults; null when this execution does not exist.</summary>
    private ulong[]? Fault(ulong[] s, int t, int pc, int page, FaultKind kind)
    {
        ulong c = s[_layout.Control(t)];
        // A later instruction's fault, hardware update or TLBI already happened early: this instruction must not fault.
        if (StateLayout.FloatIndex(c) != StateLayout.NoFloat || s[_layout.EarlyTlbis(t)] != 0) return null;
        for (int a = 0; a < _programs[t].AccessCount; a++) if (s[_layout.EarlyUpdate[t] + a] != 0) return null;
        if (!RecordFault(s, t, pc, page, kind)) return null;
        var prog = _programs[t];
        for (int a = 0; a < prog.AccessCount; a++) ClearEarly(s, t, a);
        if (prog.HandlerStart >= 0)
        {
            if (StateLayout.InHandler(c))
            {
                s[_layout.Control(t)] = StateLayout.WithStatus(c, RunStatus.Stopped); // herd7: a fault inside the fault handler ends the thread
                return s;
            }
            // Exception entry: ELR_EL1 holds the faulting instruction; the handler runs; entry is context synchronizing.
            s[_layout.Elr(t)] = LabelValue(t, pc);
            c = StateLayout.WithElrKind(c, LitmusValueKind.Label);
            c = StateLayout.WithPc(StateLayout.WithInHandler(c, true), prog.HandlerStart);
            s[_layout.Control(t)] = c;
            ContextSynchronize(s, t);
            return s;
        }
        if (_test.Handling == FaultHandling.Handled)
        {
            // herd7's "handled": the instruction runs again, and from then on a fault ends the execution.
            if (StateLayout.Reexec(c)) return null;
            s[_layout.Control(t)] = StateLayout.WithReexec(c, true);
            ContextSynchronize(s, t);
            return s;
        }
        s[_layout.Control(t)] = StateLayout.WithStatus(c, RunStatus.Stopped);
        return s;
    }

    // ---- TLB maintenance --------------------------------------------------------------------------------------------

    private ulong[] Tlbi(ulong[] s, int t, int pc, LitmusInstruction ins)
    {
        IssueTlbi(s, t, ins, ins.HasTlbiOperand ? ReadRegister(s, t, ins.Rn).Bits : 0);
        Advance(s, t, pc);
        return s;
    }

    /// <summary>Marks the TLB entries a TLBI removes once it completes: those cached when it is issued.</summary>
    private void IssueTlbi(ulong[] s, int t, LitmusInstruction ins, ulong operand)
    {
        if (_test.AtEl0[t]) throw new LitmusUnsupportedException($"P{t} runs at EL0, where TLBI is UNDEFINED");
        var scope = TlbiScope.Decode(ins.TlbiOp, operand, El1Context);
        int q = _issuerIndex[t];
        bool broadcast = ins.TlbiOp.Info().IsBroadcast;
        for (int p = 0; p < _layout.Pages; p++)
        {
            var tag = new TlbEntryTag(Regime.El10, TranslationStage.Stage1, 0, 0, Global: true,
                LitmusMachine.VirtualAddressOf(p), 12, 3, Leaf: true, Granule.Size4K);
            if (!scope.Matches(tag)) continue;
            for (int u = 0; u < _layout.Threads; u++)
            {
                if (!broadcast && u != t) continue;
                // The entries this TLBI removes are those cached now; values cached later (only the current one can be) stay.
                s[_layout.DoomIndex(u, p, q)] |= s[_layout.TlbOld[u] + p];
                for (int a = 0; a < _programs[u].AccessCount; a++)
                    if (s[_layout.Early[u] + a] != 0 && _layout.GetEarlyPage(s, u, a) == p)
                        s[_layout.EarlyDoomIndex(u, a, q)] |= s[_layout.Early[u] + a];
            }
        }
    }

    /// <summary>
    /// A DSB with pending TLBIs completes them (Arm ARM R_YNJCP): other PEs lose the removed entries now; the issuer
    /// loses them at its next context synchronization.
    /// </summary>
    private ulong[] CompleteDsb(ulong[] s, int t, int pc)
    {
        int q = _issuerIndex[t];
        if (q >= 0)
        {
            for (int u = 0; u < _layout.Threads; u++)
            {
                for (int p = 0; p < _layout.Pages; p++)
                {
                    ref ulong doom = ref s[_layout.DoomIndex(u, p, q)];
                    if (u == t) s[_layout.LocalDrop[u] + p] |= doom;
                    else s[_layout.TlbOld[u] + p] &= ~doom;
                    doom = 0;
                }
                for (int a = 0; a < _programs[u].AccessCount; a++)
                {
                    ref ulong doom = ref s[_layout.EarlyDoomIndex(u, a, q)];
                    if (u == t) s[_layout.EarlyLocal[u] + a] |= doom;
                    else s[_layout.Early[u] + a] &= ~doom;
                    doom = 0;
                }
            }
        }
        Advance(s, t, pc);
        return s;
    }
}
