using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Machine;

/// <summary>
/// One processing element: its system registers (<see cref="Msr(SystemRegister, ulong)"/>, <see cref="Mrs(SystemRegister, out ulong)"/>),
/// exception level and PSTATE.PAN, its TLBs and walker, a cycle clock, and the instructions that matter to the MMU:
/// <see cref="Load(ulong, int)"/>, <see cref="Store(ulong, int, ulong)"/>, <see cref="Fetch"/>, <see cref="At"/>,
/// <see cref="Tlbi"/>, <see cref="Dsb"/> and <see cref="Isb"/>. Accesses go through the TLBs and the walker and really
/// read and write the machine's memory (stores with this PE as the writer); faults are returned as values.
/// TLB maintenance takes effect when the issuing PE executes a DSB that completes it — the latest point the
/// architecture allows (R_YNJCP) — so a missing or too weak DSB leaves stale entries in use.
/// </summary>
public sealed class ProcessingElement : ITableMaintenance
{
    private static readonly int RegisterCount = Enum.GetValues<SystemRegister>().Length;
    private static readonly TlbiOp[] InnerShareableForm = BuildInnerShareableForms();

    private readonly Machine _machine;
    private readonly PhysicalMemory _memory;
    private readonly Mmu _mmu;
    private readonly SetAssociativeTlb<LeafEntry> _l1i, _l1d, _l2;
    private readonly SetAssociativeTlb<TableEntry> _walks;
    private readonly SetAssociativeTlb<Stage2Entry> _ipa;
    private readonly ulong _receiveCycles;
    private readonly CostModel _cost;
    private readonly ulong[] _written;
    private readonly bool _immediate;
    private readonly int[] _self;
    private bool _writesPending;
    private RegimeContext _ctxEl10 = null!, _ctxEl2 = null!, _access = null!;
    private int _ctxVersion = -1;
    private TranslationRecord _rec;
    private WalkResult _result;
    private PendingTlbi[] _pending = new PendingTlbi[4];
    private int _pendingCount;
    // The L1 hit path is taken when no observer needs the full walk result and stage 1 is on.
    private bool _fast;
    private FastAccess _read, _write, _fetch;
    private bool _pan;

    private struct PendingTlbi
    {
        public TlbiMatcher Matcher;
        public int[] Targets;
        public ulong[] Done;
        public int Remaining;
        public ulong IssueTime;
        // Latency to the i-th other target: ScaledBase + (ScaledPerTarget × i) / 1024 cycles (contention already applied).
        public ulong ScaledBase, ScaledPerTarget;
        public TlbiShareability Reach;
    }

    internal ProcessingElement(Machine machine, int index, ProcessorFeatures features, CoreProfile profile, LineCache? llc,
        RegisterSynchronization synchronization, int exceptionLevel)
    {
        _machine = machine;
        _memory = machine.Memory;
        PeIndex = index;
        Features = features;
        Profile = profile;
        Translator = new AddressTranslator(_memory, features, ConfigurationPolicy.Architectural);
        Tlbs = new TlbHierarchy(profile.Tlbs);
        _mmu = new Mmu(_memory, Tlbs, index, conflictAbort: features.BbmLevel < 2);
        _l1i = Tlbs.L1I;
        _l1d = Tlbs.L1D;
        _l2 = Tlbs.L2;
        _walks = Tlbs.Walks;
        _ipa = Tlbs.Ipa;
        _receiveCycles = (ulong)profile.TlbiReceiveCycles;
        _cost = new CostModel(profile, llc);
        _immediate = synchronization == RegisterSynchronization.Immediate;
        _written = new ulong[RegisterCount];
        for (int i = 0; i < RegisterCount; i++) _written[i] = Translator.Registers[(SystemRegister)i];
        _self = [index];
        ExceptionLevel = exceptionLevel;
        RefreshContexts();
    }


    /// <summary>The PE's index in its machine.</summary>
    public int PeIndex { get; }
    /// <summary>The PE's features (ID registers).</summary>
    public ProcessorFeatures Features { get; }
    /// <summary>The PE's core profile.</summary>
    public CoreProfile Profile { get; }
    /// <summary>The machine.</summary>
    public Machine Machine => _machine;
    /// <summary>
    /// The translation state in force (registers as of the last context synchronization) with the architectural walker:
    /// <c>Translator.At</c> walks memory afresh, without this PE's TLBs.
    /// </summary>
    public AddressTranslator Translator { get; }
    /// <summary>The PE's TLBs.</summary>
    public TlbHierarchy Tlbs { get; }
    /// <summary>The cost model (clock, profile, statistics).</summary>
    public CostModel Costs => _cost;
    /// <summary>Counters.</summary>
    public PeStatistics Statistics => _cost.Statistics;
    /// <summary>The PE's clock in core cycles.</summary>
    public ulong Cycles => _cost.Cycles;
    /// <summary>The current exception level: 0, 1 or 2.</summary>
    public int ExceptionLevel { get; private set; }
    /// <summary>PSTATE.PAN: privileged data accesses to EL0-accessible memory fault.</summary>
    public bool Pan
    {
        get => _pan;
        set
        {
            _machine.Owner.Check();
            _pan = value;
            UpdateAccessClasses();
        }
    }

    private void UpdateAccessClasses()
    {
        _read = new FastAccess(_access, AccessClasses.Of(Access(AccessKind.Read)));
        _write = new FastAccess(_access, AccessClasses.Of(Access(AccessKind.Write)));
        _fetch = new FastAccess(_access, AccessClasses.Of(Access(AccessKind.Execute)));
    }

    // FEAT_E0PD faults EL0 accesses whatever the TLBs hold: those take the slow path, which checks it.
    internal void ObserversChanged()
        => _fast = !_machine.ObserversAttached && _access.Stage1Enabled && !(ExceptionLevel == 0 && _access.HasE0pd);
    /// <summary>TLBIs issued by this PE that a DSB has not completed on every PE they reach.</summary>
    public int OutstandingTlbis => _pendingCount;

    // ---------------------------------------------------------------- system registers

    /// <summary>
    /// MSR: writes a translation register. UNDEFINED at EL0, and at EL1 for the EL2 registers. The new value reaches
    /// translation at the next context synchronization event unless the machine was built with
    /// <see cref="RegisterSynchronization.Immediate"/>.
    /// </summary>
    public InstructionStatus Msr(SystemRegister register, ulong value)
    {
        _machine.Owner.Check();
        CheckRegister(register);
        if (ExceptionLevel < Sysreg.MinimumExceptionLevel(register)) return InstructionStatus.Undefined;
        _written[(int)register] = value;
        _cost.Statistics.SystemRegisterWrites++;
        _cost.Advance(CycleCategory.SystemRegister, (ulong)Profile.MsrCycles);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnSystemRegisterWrite(PeIndex, register, value);
        if (_immediate)
        {
            Translator.Registers[register] = value;
            RefreshContexts();
        }
        else
        {
            _writesPending = true;
        }
        return InstructionStatus.Executed;
    }

    /// <summary>MSR through a typed view, e.g. <c>pe.Msr(Sysreg.TcrEl1, tcr)</c>.</summary>
    public InstructionStatus Msr<T>(TypedSystemRegister<T> register, T value) where T : struct
    {
        ArgumentNullException.ThrowIfNull(register);
        return Msr(register.Register, register.ToValue(value));
    }

    /// <summary>MRS: reads a translation register as last written (program order). UNDEFINED at EL0, and at EL1 for the EL2 registers.</summary>
    public InstructionStatus Mrs(SystemRegister register, out ulong value)
    {
        _machine.Owner.Check();
        CheckRegister(register);
        if (ExceptionLevel < Sysreg.MinimumExceptionLevel(register))
        {
            value = 0;
            return InstructionStatus.Undefined;
        }
        value = _written[(int)register];
        return InstructionStatus.Executed;
    }

    /// <summary>MRS through a typed view.</summary>
    public InstructionStatus Mrs<T>(TypedSystemRegister<T> register, out T value) where T : struct
    {
        ArgumentNullException.ThrowIfNull(register);
        var st = Mrs(register.Register, out ulong raw);
        value = register.FromValue(raw);
        return st;
    }

    /// <summary>A register's value as last written, whatever the exception level (a debugger's view).</summary>
    public ulong RegisterValue(SystemRegister register)
    {
        _machine.Owner.Check();
        CheckRegister(register);
        return _written[(int)register];
    }

    private static void CheckRegister(SystemRegister register)
    {
        if ((uint)register >= (uint)RegisterCount)
            throw new ArgumentOutOfRangeException(nameof(register), $"{register} is not a system register of this model (allowed: {string.Join(", ", Enum.GetNames<SystemRegister>())})");
    }

    /// <summary>
    /// Moves to another exception level, as an exception entry or return does; that is a context synchronization event.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0, 1 or 2.</exception>
    public void ChangeExceptionLevel(int exceptionLevel)
    {
        _machine.Owner.Check();
        if (exceptionLevel is < 0 or > 2)
            throw new ArgumentOutOfRangeException(nameof(exceptionLevel), $"exception level {exceptionLevel}: allowed 0, 1 or 2 (EL3 is not modelled)");
        ExceptionLevel = exceptionLevel;
        _cost.Advance(CycleCategory.ExceptionLevelChange, (ulong)Profile.ExceptionCycles);
        Synchronize();
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnExceptionLevelChange(PeIndex, exceptionLevel);
    }

    /// <summary>ISB: a context synchronization event (register writes take effect).</summary>
    public void Isb()
    {
        _machine.Owner.Check();
        _cost.Statistics.Isbs++;
        _cost.Advance(CycleCategory.Isb, (ulong)Profile.IsbCycles);
        Synchronize();
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnIsb(PeIndex);
    }

    private void Synchronize()
    {
        if (_writesPending)
        {
            var regs = Translator.Registers;
            for (int i = 0; i < RegisterCount; i++)
                if (regs[(SystemRegister)i] != _written[i]) regs[(SystemRegister)i] = _written[i];
            _writesPending = false;
        }
        RefreshContexts();
    }

    private void RefreshContexts()
    {
        var t = Translator;
        if (_ctxVersion != t.Registers.Version)
        {
            var el10 = t.El10Regime;
            _ctxEl10 = new RegimeContext(el10, el10.Kind == RegimeKind.El10 ? t.Stage2 : Stage2Regime.Disabled, CurrentVmid());
            _ctxEl2 = new RegimeContext(t.El2Regime, Stage2Regime.Disabled, 0);
            _ctxVersion = t.Registers.Version;
        }
        _access = ExceptionLevel == 2 ? _ctxEl2 : _ctxEl10;
        UpdateAccessClasses();
        ObserversChanged();
    }

    // VTTBR_EL2.VMID, 8 bits unless VTCR_EL2.VS=1 on a PE with 16-bit VMIDs.
    private ushort CurrentVmid()
    {
        var regs = Translator.Registers;
        ushort vmid = regs.VttbrEl2.Vmid;
        if (!regs.VtcrEl2.Vs || Features.VmidBits == 8) vmid &= 0xFF;
        return vmid;
    }

    // ---------------------------------------------------------------- accesses

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AccessRequest Access(AccessKind kind)
        => new(kind, ExceptionLevel == 0, _pan && ExceptionLevel != 0 && kind != AccessKind.Execute);

    /// <summary>
    /// Translates <paramref name="va"/> for an access of <paramref name="kind"/> at the current exception level, as an
    /// access would (TLB lookups and fills, walk, hardware Access-flag/dirty updates, cycles), without touching data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PeTranslation Translate(ulong va, AccessKind kind)
    {
        var rc = _access;
        bool fetch = kind == AccessKind.Execute;
        if (_fast && Mmu.TryL1Hit(fetch ? _l1i : _l1d, rc, rc.KeyAddress(va, fetch),
                in kind == AccessKind.Read ? ref _read : ref kind == AccessKind.Write ? ref _write : ref _fetch, out ulong pa))
        {
            _cost.ChargeL1Hit(fetch);
            return new PeTranslation(default, pa, TranslationSource.L1Tlb);
        }
        return TranslateNotL1(rc, va, kind);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PeTranslation TranslateNotL1(RegimeContext rc, ulong va, AccessKind kind)
    {
        // The owner check is here, off the L1-hit path it would slow by a quarter (OwnerThread).
        _machine.Owner.Check();
        TranslateSlow(rc, va, Access(kind));
        return new PeTranslation(_result.Fault, _result.Succeeded ? _result.OutputAddress : 0, _rec.Source);
    }

    /// <summary>Loads 1, 2, 4 or 8 bytes (little-endian). An access that crosses a page is split, each part translated.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AccessResult Load(ulong va, int size)
    {
        var rc = _access;
        if (_fast && (size == 8 || size == 4 || size == 2 || size == 1) && (va & 0xFFF) + (ulong)size <= 0x1000
            && Mmu.TryL1Hit(_l1d, rc, rc.KeyAddress(va, false), in _read, out ulong pa))
        {
            _cost.ChargeL1Hit(false);
            return new AccessResult(default, ReadBytes(pa, size), pa, 0, 1);
        }
        return AccessSlow(rc, va, size, AccessKind.Read, 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private AccessResult AccessSlow(RegimeContext rc, ulong va, int size, AccessKind kind, ulong value)
    {
        CheckSize(size);
        return AccessSlow(rc, va, size, Access(kind), value);
    }

    /// <summary>
    /// Stores the low <paramref name="size"/> bytes (1, 2, 4 or 8) of <paramref name="value"/>. A store that crosses a
    /// page is two stores (not single-copy atomic); both parts are translated before either is written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    public AccessResult Store(ulong va, int size, ulong value)
    {
        CheckSize(size);
        var rc = _access;
        if (_fast && (va & 0xFFF) + (ulong)size <= 0x1000 && Mmu.TryL1Hit(_l1d, rc, rc.KeyAddress(va, false), in _write, out ulong pa))
        {
            _cost.ChargeL1Hit(false);
            WriteBytes(pa, size, value);
            return new AccessResult(default, 0, pa, 0, 1);
        }
        return AccessSlow(rc, va, size, Access(AccessKind.Write), value);
    }

    /// <summary>Fetches 1, 2, 4 (default) or 8 bytes of instructions.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    public AccessResult Fetch(ulong va, int size = 4)
    {
        CheckSize(size);
        var rc = _access;
        if (_fast && (va & 0xFFF) + (ulong)size <= 0x1000 && Mmu.TryL1Hit(_l1i, rc, rc.KeyAddress(va, true), in _fetch, out ulong pa))
        {
            _cost.ChargeL1Hit(true);
            return new AccessResult(default, ReadBytes(pa, size), pa, 0, 1);
        }
        return AccessSlow(rc, va, size, Access(AccessKind.Execute), 0);
    }

    /// <summary>Loads <paramref name="destination"/>.Length bytes, part by part (one translation per page); stops at the first fault.</summary>
    public AccessResult Load(ulong va, Span<byte> destination)
    {
        _machine.Owner.Check();
        return AccessSpan(va, destination, default, Access(AccessKind.Read));
    }

    /// <summary>Stores <paramref name="source"/>, part by part (one translation per page); parts before a faulting one are written.</summary>
    public AccessResult Store(ulong va, ReadOnlySpan<byte> source)
    {
        _machine.Owner.Check();
        return AccessSpan(va, default, source, Access(AccessKind.Write));
    }

    private static void CheckSize(int size)
    {
        if (size is not (1 or 2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(size), $"access size {size}: allowed 1, 2, 4 or 8 bytes (use the span overloads for other lengths)");
    }

    private AccessResult AccessSlow(RegimeContext rc, ulong va, int size, AccessRequest access, ulong value)
    {
        _machine.Owner.Check();
        ulong page = rc.SplitBytes(va);
        ulong room = page - (va & (page - 1));
        int n0 = (int)Math.Min((ulong)size, room);
        if (!TranslatePart(rc, va, access, out ulong pa0)) return new AccessResult(_result.Fault, 0, 0, va, 1);
        ulong pa1 = 0;
        int parts = 1;
        if (n0 < size)
        {
            parts = 2;
            ulong va1 = va + (ulong)n0;
            if (!TranslatePart(_access, va1, access, out pa1)) return new AccessResult(_result.Fault, 0, 0, va1, 2);
        }
        ChargeIfUncached(rc, access, parts);
        if (access.Kind == AccessKind.Write)
        {
            WriteBytes(pa0, n0, value);
            if (parts == 2) WriteBytes(pa1, size - n0, value >> (8 * n0));
            return new AccessResult(default, 0, pa0, 0, parts);
        }
        ulong v = ReadBytes(pa0, n0);
        if (parts == 2) v |= ReadBytes(pa1, size - n0) << (8 * n0);
        return new AccessResult(default, v, pa0, 0, parts);
    }

    private AccessResult AccessSpan(ulong va, Span<byte> destination, ReadOnlySpan<byte> source, AccessRequest access)
    {
        bool write = access.Kind == AccessKind.Write;
        int length = write ? source.Length : destination.Length;
        int done = 0, parts = 0;
        ulong firstPa = 0;
        while (done < length)
        {
            var rc = _access;
            ulong cur = va + (ulong)done;
            ulong page = rc.SplitBytes(cur);
            int n = (int)Math.Min((ulong)(length - done), page - (cur & (page - 1)));
            parts++;
            if (!TranslatePart(rc, cur, access, out ulong pa)) return new AccessResult(_result.Fault, 0, firstPa, cur, parts);
            ChargeIfUncached(rc, access, 1);
            if (parts == 1) firstPa = pa;
            for (int k = 0; k < n; k += 8)
            {
                int m = Math.Min(8, n - k);
                if (write)
                {
                    ulong v = 0;
                    for (int b = 0; b < m; b++) v |= (ulong)source[done + k + b] << (8 * b);
                    WriteBytes(pa + (ulong)k, m, v);
                }
                else
                {
                    ulong v = ReadBytes(pa + (ulong)k, m);
                    for (int b = 0; b < m; b++) destination[done + k + b] = (byte)(v >> (8 * b));
                }
            }
            done += n;
        }
        return new AccessResult(default, 0, firstPa, 0, parts);
    }

    // With stage 1 disabled a data access is Device-nGnRnE unless HCR_EL2.DC makes it Normal (Arm ARM D8.2.11): it goes to
    // memory. Such accesses always take the slow path (the fast path needs stage 1), so _result holds their attributes.
    private void ChargeIfUncached(RegimeContext rc, AccessRequest access, int parts)
    {
        if (!rc.Stage1Enabled && access.Kind != AccessKind.Execute && MemoryAttributes.IsDevice(_result.Attributes))
            _cost.ChargeUncachedAccess(parts);
    }

    /// <summary>
    /// Data cache maintenance by VA (<c>DC CVAC</c>, <c>DC CIVAC</c>, <c>DC IVAC</c>, <c>DC CVAU</c>): the address is translated
    /// as a load would be (a fault is returned, nothing charged for the maintenance) and the line's maintenance is charged
    /// (<see cref="CoreProfile.CacheMaintenanceCycles"/>). Data caches are not modelled — memory is coherent — so the data does
    /// not change; the instruction is here to price software that must do it, such as page-table code running with the MMU off.
    /// </summary>
    public AccessResult DataCacheMaintenance(DataCacheOperation op, ulong va)
    {
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), $"{op} is not a data cache operation (allowed: {string.Join(", ", Enum.GetNames<DataCacheOperation>())})");
        var rc = _access;
        if (!TranslatePart(rc, va, Access(AccessKind.Read), out ulong pa)) return new AccessResult(_result.Fault, 0, 0, va, 1);
        _cost.ChargeCacheMaintenance();
        return new AccessResult(default, 0, pa, 0, 1);
    }

    private bool TranslatePart(RegimeContext rc, ulong va, AccessRequest access, out ulong pa)
    {
        bool fetch = access.Kind == AccessKind.Execute;
        if (_fast && Mmu.TryL1Hit(fetch ? _l1i : _l1d, rc, rc.KeyAddress(va, fetch),
                in access.Kind == AccessKind.Read ? ref _read : ref access.Kind == AccessKind.Write ? ref _write : ref _fetch, out pa))
        {
            _cost.ChargeL1Hit(fetch);
            return true;
        }
        TranslateSlow(rc, va, access);
        pa = _result.OutputAddress;
        return _result.Succeeded;
    }

    private void TranslateSlow(RegimeContext rc, ulong va, AccessRequest access)
    {
        _rec.Reset(access.Kind == AccessKind.Execute);
        _mmu.Translate(rc, va, access, true, TranslateOptions.UseFinalTlbs | TranslateOptions.HardwareUpdates, ref _result, ref _rec);
        bool ok = _result.Succeeded;
        _cost.ChargeTranslation(ref _rec, !ok);
        if (_machine.ObserversAttached) NotifyTranslation(va, ok);
    }

    private void NotifyTranslation(ulong va, bool ok)
    {
        var observers = _machine.Observers;
        if (_rec.Conflict)
            foreach (var o in observers) o.OnTlbConflict(PeIndex, va, in _rec.ConflictFirst, in _rec.ConflictSecond);
        if (!ok) return;
        bool fromTlb = _rec.Source is TranslationSource.L1Tlb or TranslationSource.L2Tlb;
        foreach (var o in observers) o.OnTranslationUsed(PeIndex, va, in _result, fromTlb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadBytes(ulong pa, int n)
    {
        if (n == 8 && (pa & 7) == 0) return _memory.ReadWordUnchecked(pa);
        ulong word = pa & ~7UL;
        int sh = (int)(pa & 7) * 8;
        ulong v = _memory.ReadWordUnchecked(word) >> sh;
        if (sh != 0 && sh + 8 * n > 64) v |= _memory.ReadWordUnchecked(word + 8) << (64 - sh);
        return n == 8 ? v : v & ((1UL << (8 * n)) - 1);
    }

    // Each 8-byte word the bytes fall in is written once, with this PE as the writer; other bytes of the word keep their value.
    private void WriteBytes(ulong pa, int n, ulong value)
    {
        if (n == 8 && (pa & 7) == 0)
        {
            _memory.WriteUInt64(pa, value, WriteOrigin.Software, PeIndex);
            return;
        }
        if (n == 1)
        {
            _memory.WriteByte(pa, (byte)value, PeIndex);
            return;
        }
        ulong end = pa + (ulong)n;
        int consumed = 0;
        for (ulong a = pa; a < end;)
        {
            ulong word = a & ~7UL;
            int off = (int)(a & 7);
            int m = (int)Math.Min((ulong)(8 - off), end - a);
            ulong mask = (m == 8 ? ulong.MaxValue : (1UL << (8 * m)) - 1) << (8 * off);
            ulong bits = ((value >> (8 * consumed)) << (8 * off)) & mask;
            ulong old = _memory.ReadWordUnchecked(word);
            _memory.WriteUInt64(word, (old & ~mask) | bits, WriteOrigin.Software, PeIndex);
            a += (ulong)m;
            consumed += m;
        }
    }

    /// <summary>
    /// AT: translates through this PE's TLBs and walk caches as the architecture permits (without hardware updates) and
    /// returns PAR_EL1. UNDEFINED at EL0, for AT S1E2*/S12E* at EL1, and for AT S1E1RP/WP without FEAT_PAN2.
    /// </summary>
    public AtResult At(AtOperation op, ulong va)
    {
        _machine.Owner.Check();
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), $"{op} is not an AT operation (allowed: {AtOperations.AllNames})");
        int el = ExceptionLevel;
        if (el == 0 || (el == 1 && (op.IsEl2() || op.IsStage12())) || (op is AtOperation.S1E1RP or AtOperation.S1E1WP && Features.Pan < 2))
            return new AtResult(InstructionStatus.Undefined, default);
        var rc = op.IsEl2() ? _ctxEl2 : _ctxEl10;
        var access = op.Access();
        access = access with { Pan = access.Pan && Pan };
        _rec.Reset(false);
        _mmu.Translate(rc, va, access, op.IsStage12(), TranslateOptions.UseFinalTlbs, ref _result, ref _rec);
        _cost.ChargeTranslation(ref _rec, !_result.Succeeded);
        return new AtResult(InstructionStatus.Executed, AddressTranslator.ToPar(_result));
    }

    // ---------------------------------------------------------------- table maintenance

    /// <summary>A 64-bit store of a descriptor to a physical address (single-copy atomic), with this PE as the writer.</summary>
    public void WriteDescriptor(ulong pa, ulong value)
    {
        _machine.Owner.Check();
        _memory.WriteUInt64(pa, value, WriteOrigin.Software, PeIndex);
    }

    /// <summary>A 64-bit load from a physical address.</summary>
    public ulong ReadDescriptor(ulong pa)
    {
        _machine.Owner.Check();
        return _memory.ReadUInt64(pa);
    }

    /// <summary>
    /// Why a TLBI is UNDEFINED on this PE at its current exception level, or null when it executes
    /// (Arm ARM D8.17.5: every TLBI at EL0; EL2, stage-2, ALLE1 and VMALLS12E1 forms at EL1; range forms without
    /// FEAT_TLBIRANGE; OS forms without FEAT_TLBIOS). HCR_EL2 traps (TTLB, NV) are not modelled.
    /// </summary>
    public string? TlbiUndefinedReason(TlbiOp op)
    {
        var info = op.Info();
        if (ExceptionLevel == 0) return "every TLBI is UNDEFINED at EL0";
        if (ExceptionLevel < info.MinimumEl) return "this TLBI needs EL2 (it is UNDEFINED at EL1)";
        if (info.IsRange && !Features.TlbiRange) return "range TLBIs need FEAT_TLBIRANGE, which this PE lacks";
        if (info.Shareability == TlbiShareability.OuterShareable && !(Features.TlbiOs || Features.TlbiRange))
            return "Outer Shareable TLBIs need FEAT_TLBIOS, which this PE lacks";
        return null;
    }

    /// <summary>
    /// TLBI: decodes the operand against this PE's registers in force (VMID from VTTBR_EL2, the regime from
    /// HCR_EL2.{E2H,TGE}, TCR.DS for range operands; at EL1 HCR_EL2.FB makes the local EL1 forms Inner Shareable)
    /// and records it as outstanding on every PE it reaches. It takes effect there when this PE's DSB completes it.
    /// </summary>
    public InstructionStatus Tlbi(TlbiOp op, ulong operand = 0)
    {
        _machine.Owner.Check();
        if ((uint)op >= (uint)TlbiOps.All.Count) throw new ArgumentOutOfRangeException(nameof(op), $"{op} is not a TLBI operation");
        if (TlbiUndefinedReason(op) is not null) return InstructionStatus.Undefined;
        var regs = Translator.Registers;
        var hcr = regs.HcrEl2;
        var info = op.Info();
        // HCR_EL2.FB: a non-shareable EL1 TLBI executed at EL1 acts as its Inner Shareable form (QEMU tlb_force_broadcast).
        if (ExceptionLevel == 1 && hcr.Fb && info.Regime == TlbiRegime.El1 && info.Shareability == TlbiShareability.NonShareable)
        {
            op = InnerShareableForm[(int)op];
            info = op.Info();
        }
        bool lpa2 = Features.TGran4 == GranuleSupport.Supported52Bit || Features.TGran16 == GranuleSupport.Supported52Bit;
        var ctx = new TlbiContext(hcr.E2h, hcr.Tge, CurrentVmid(), RangeOperandDs(info, operand, regs), Features.Ttl, lpa2);
        var scope = TlbiScope.Decode(op, operand, ctx);
        // With 8-bit ASIDs implemented, operand bits [63:56] are ignored.
        if (Features.AsidBits == 8 && info.HasAsid) scope = scope with { Asid = (ushort)(scope.Asid & 0xFF) };
        int[] targets = info.Shareability switch
        {
            TlbiShareability.NonShareable => _self,
            TlbiShareability.InnerShareable => _machine.InnerMembers(PeIndex),
            _ => _machine.OuterMembers(PeIndex),
        };
        _cost.Statistics.TlbisIssued++;
        _cost.Advance(CycleCategory.TlbiIssue, (ulong)Profile.TlbiIssueCycles);
        ulong issued = _cost.Cycles;
        double scale = 1;
        if (targets.Length > 1)
        {
            ulong alone = (ulong)Profile.BroadcastBaseCycles + (ulong)Profile.BroadcastPerTargetCycles * (ulong)(targets.Length - 2) + (ulong)Profile.TlbiReceiveCycles;
            scale = _machine.Interconnect.Schedule(PeIndex, issued, alone, Profile.ContentionFactor);
        }
        AddPending(new TlbiMatcher(scope), targets, issued, scale, info.Shareability);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnTlbi(PeIndex, in scope, targets);
        return InstructionStatus.Executed;
    }

    void ITableMaintenance.Tlbi(TlbiOp op, ulong operand)
    {
        if (Tlbi(op, operand) == InstructionStatus.Undefined)
            throw new InvalidOperationException($"TLBI {op.Info().Name} is UNDEFINED on PE {PeIndex} at EL{ExceptionLevel}: {TlbiUndefinedReason(op)}");
    }

    // The DS that decides a range operand's BaseADDR unit: TCR_ELx.DS (VTCR_EL2.DS for IPA ranges) where FEAT_LPA2
    // exists for the operand's granule; never for 64K (Arm ARM D8.17.5.2).
    private bool RangeOperandDs(in TlbiOpInfo info, ulong operand, SystemRegisters regs)
    {
        if (!info.IsRange) return false;
        Granule g;
        switch ((operand >> 46) & 3)
        {
            case 1: g = Granule.Size4K; break;
            case 2: g = Granule.Size16K; break;
            default: return false;
        }
        bool stage2 = info.Kind == TlbiKind.Ipa;
        bool ds;
        if (stage2) ds = regs.VtcrEl2.Ds;
        else
        {
            var hcr = regs.HcrEl2;
            bool el2Regime = info.Regime == TlbiRegime.El2 || (hcr.E2h && hcr.Tge);
            ds = !el2Regime ? regs.TcrEl1.Ds : hcr.E2h ? regs.TcrEl2E2h.Ds : regs.TcrEl2.Ds;
        }
        return ds && Features.Support(g, stage2) == GranuleSupport.Supported52Bit;
    }

    private void AddPending(in TlbiMatcher matcher, int[] targets, ulong issued, double scale, TlbiShareability reach)
    {
        if (_pendingCount == _pending.Length) Array.Resize(ref _pending, _pending.Length * 2);
        ref var p = ref _pending[_pendingCount++];
        int words = (_machine.Count + 63) >> 6;
        if (p.Done is null || p.Done.Length < words) p.Done = new ulong[words];
        else Array.Clear(p.Done);
        p.Matcher = matcher;
        p.Targets = targets;
        p.Remaining = targets.Length;
        p.IssueTime = issued;
        p.ScaledBase = (ulong)Math.Round(Profile.BroadcastBaseCycles * scale);
        p.ScaledPerTarget = (ulong)Math.Round(Profile.BroadcastPerTargetCycles * scale * 1024);
        p.Reach = reach;
    }

    /// <summary>
    /// DSB. One that orders loads and stores completes this PE's outstanding TLBIs on the PEs of its domain (NSH: this
    /// PE; ISH/OSH: its Inner/Outer Shareable domain; SY: all), waiting for the slowest; the ST and LD forms complete
    /// none (R_PSMWS). At EL0 and EL1, HCR_EL2.BSU raises the domain.
    /// </summary>
    public void Dsb(DsbOption option)
    {
        _machine.Owner.Check();
        if (ExceptionLevel < 2) option = Upgrade(option, Translator.Registers.HcrEl2.Bsu);
        _cost.Statistics.Dsbs++;
        ulong finish = _cost.Cycles + (ulong)Profile.DsbCycles;
        if (option.CompletesMaintenance && _pendingCount != 0) finish = Math.Max(finish, Complete(option.Domain));
        _cost.AdvanceTo(CycleCategory.Barrier, finish);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnDsb(PeIndex, option);
    }

    private static DsbOption Upgrade(DsbOption option, int bsu)
    {
        var floor = bsu switch { 1 => BarrierDomain.InnerShareable, 2 => BarrierDomain.OuterShareable, 3 => BarrierDomain.FullSystem, _ => BarrierDomain.NonShareable };
        return option.Domain < floor ? option with { Domain = floor } : option;
    }

    // Applies the outstanding TLBIs, in program order, to the targets the domain covers; returns when the last one completes.
    private ulong Complete(BarrierDomain domain)
    {
        ulong latest = 0;
        int kept = 0;
        for (int k = 0; k < _pendingCount; k++)
        {
            ref var p = ref _pending[k];
            // The domain covers every target when it is at least the TLBI's reach (an Inner Shareable domain lies within its Outer one).
            bool coversAll = domain == BarrierDomain.FullSystem || p.Reach == TlbiShareability.NonShareable
                || (p.Reach == TlbiShareability.InnerShareable && domain >= BarrierDomain.InnerShareable)
                || (p.Reach == TlbiShareability.OuterShareable && domain >= BarrierDomain.OuterShareable);
            var targets = p.Targets;
            var done = p.Done;
            int position = 0;
            for (int i = 0; i < targets.Length; i++)
            {
                int t = targets[i];
                bool self = t == PeIndex;
                int pos = self ? 0 : position++;
                ulong bit = 1UL << (t & 63);
                if ((done[t >> 6] & bit) != 0 || (!coversAll && !_machine.InDomain(PeIndex, t, domain))) continue;
                done[t >> 6] |= bit;
                p.Remaining--;
                var target = _machine.ProcessingElementAt(t);
                target.Receive(in p.Matcher, !self);
                ulong finish = self
                    ? p.IssueTime + (ulong)Profile.TlbiLocalCycles
                    : p.IssueTime + p.ScaledBase + ((p.ScaledPerTarget * (ulong)pos) >> 10) + target._receiveCycles;
                if (finish > latest) latest = finish;
            }
            if (p.Remaining == 0) continue;
            if (kept != k) (_pending[kept], _pending[k]) = (_pending[k], _pending[kept]);
            kept++;
        }
        _pendingCount = kept;
        return latest;
    }

    internal void Receive(in TlbiMatcher matcher, bool fromOtherPe)
    {
        int removed = TlbHierarchy.Invalidate(in matcher, _l1i, _l1d, _l2, _walks, _ipa);
        if (removed != 0) _cost.Statistics.EntriesInvalidated += removed;
        if (fromOtherPe) _cost.ChargeReceivedTlbi(_receiveCycles);
    }

    private static TlbiOp[] BuildInnerShareableForms()
    {
        var all = TlbiOps.All;
        var map = new TlbiOp[all.Count];
        for (int i = 0; i < map.Length; i++) map[i] = ((TlbiOp)i).WithShareability(TlbiShareability.InnerShareable) ?? (TlbiOp)i;
        return map;
    }

    /// <inheritdoc/>
    public override string ToString() => $"PE {PeIndex} ({Profile.Name}) EL{ExceptionLevel}, {Cycles} cycles";
}
