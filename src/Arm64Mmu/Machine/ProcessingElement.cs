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
/// <see cref="Load(VirtualAddress, int)"/>, <see cref="Store(VirtualAddress, int, ulong)"/>, <see cref="Fetch"/>, <see cref="At"/>,
/// <see cref="Tlbi"/>, <see cref="Dsb"/> and <see cref="Isb"/>. Accesses go through the TLBs and the walker and really
/// read and write the machine's memory (stores with this PE as the writer); faults are returned as values.
/// </summary>
/// <remarks>
/// A facade over its parts: the <see cref="SystemRegisterFile"/> (program-order values, context synchronization), the
/// final-TLB policy and walker of the Tlb and Translation layers, the <see cref="MemoryPort"/> (byte lanes, page-crossing
/// splits), the <see cref="MaintenanceQueue"/> (TLBIs outstanding until the issuer's DSB completes them) and the
/// <see cref="CostModel"/>. The hit path of a load, store or fetch is inlined here; everything else goes through a part.
/// </remarks>
public sealed class ProcessingElement : ITableMaintenance
{
    private static readonly TlbiOp[] InnerShareableForm = BuildInnerShareableForms();

    private readonly Machine _machine;
    private readonly Mmu _mmu;
    private readonly SetAssociativeTlb<LeafEntry> _l1i, _l1d;
    private readonly CostModel _cost;
    private readonly SystemRegisterFile _registers;
    private readonly MemoryPort _port;
    private readonly MaintenanceQueue _maintenance;
    private readonly int[] _self;
    private RegimeContext _ctxEl10 = null!, _ctxEl2 = null!, _access = null!;
    private int _ctxVersion = -1;
    private TranslationRecord _rec;
    private WalkResult _result;
    // The L1 and L2 hit paths are taken when no observer needs the full walk result and stage 1 is on.
    private bool _fast;
    private FastAccess _read, _write, _fetch;
    private bool _pan;
    // Memoised L1 hits (FastPageTable): reads, writes, fetches; and what they were filled under.
    private readonly FastPageTable.Slot[] _fastRead, _fastWrite, _fastFetch;
    private (RegimeContext? Context, int El, bool Pan, bool Fast) _fastContext;

    internal ProcessingElement(Machine machine, int index, ProcessorFeatures features, CoreProfile profile, LineCache? llc,
        RegisterSynchronization synchronization, int exceptionLevel)
    {
        _machine = machine;
        PeIndex = index;
        Features = features;
        Profile = profile;
        Translator = new AddressTranslator(machine.Memory, features, ConfigurationPolicy.Architectural);
        Tlbs = new TlbHierarchy(profile.Tlbs);
        _mmu = new Mmu(Translator.Walker, Tlbs, index, conflictAbort: features.BbmLevel < 2);
        _l1i = Tlbs.L1I;
        _l1d = Tlbs.L1D;
        _fastRead = Tlbs.DataPages.Table(0);
        _fastWrite = Tlbs.DataPages.Table(1);
        _fastFetch = Tlbs.InstructionPages.Table(0);
        ReceiveCycles = (ulong)profile.TlbiReceiveCycles;
        _cost = new CostModel(profile, llc);
        _registers = new SystemRegisterFile(Translator.Registers, synchronization);
        _port = new MemoryPort(machine.Memory, this);
        _maintenance = new MaintenanceQueue(machine, index);
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
        FastContextChanged();
    }

    // FEAT_E0PD faults EL0 accesses whatever the TLBs hold: those take the slow path, which checks it.
    internal void ObserversChanged()
    {
        _fast = !_machine.ObserversAttached && _access.Stage1Enabled && !(ExceptionLevel == 0 && _access.HasE0pd);
        FastContextChanged();
    }

    // The memoised hits hold for the context they were made in: another regime context, exception level, PSTATE.PAN
    // or an observer (which needs every translation) empties them.
    private void FastContextChanged()
    {
        var now = (_access, ExceptionLevel, _pan, _fast);
        if (now == _fastContext) return;
        _fastContext = now;
        Tlbs.DataPages.Clear();
        Tlbs.InstructionPages.Clear();
    }
    /// <summary>TLBIs issued by this PE that a DSB has not completed on every PE they reach.</summary>
    public int OutstandingTlbis => _maintenance.Count;

    /// <summary>Cycles this PE takes to apply a TLBI broadcast by another PE.</summary>
    internal ulong ReceiveCycles { get; }

    // ---------------------------------------------------------------- system registers

    /// <summary>
    /// MSR: writes a translation register. UNDEFINED at EL0, and at EL1 for the EL2 registers. The new value reaches
    /// translation at the next context synchronization event unless the machine was built with
    /// <see cref="RegisterSynchronization.Immediate"/>.
    /// </summary>
    public InstructionStatus Msr(SystemRegister register, ulong value)
    {
        _machine.Owner.Check();
        SystemRegisterFile.Check(register);
        if (ExceptionLevel < Sysreg.MinimumExceptionLevel(register)) return InstructionStatus.Undefined;
        _cost.Statistics.SystemRegisterWrites++;
        _cost.Advance(CycleCategory.SystemRegister, (ulong)Profile.MsrCycles);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnSystemRegisterWrite(PeIndex, register, value);
        if (_registers.Write(register, value)) RefreshContexts();
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
        SystemRegisterFile.Check(register);
        if (ExceptionLevel < Sysreg.MinimumExceptionLevel(register))
        {
            value = 0;
            return InstructionStatus.Undefined;
        }
        value = _registers[register];
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
        SystemRegisterFile.Check(register);
        return _registers[register];
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
        _registers.Synchronize();
        RefreshContexts();
    }

    private void RefreshContexts()
    {
        var t = Translator;
        if (_ctxVersion != t.Registers.Version)
        {
            var el10 = t.El10Regime;
            _ctxEl10 = new RegimeContext(el10, el10.Kind == Regime.El10 ? t.Stage2 : Stage2Regime.Disabled, t.Registers.EffectiveVmid(Features));
            _ctxEl2 = new RegimeContext(t.El2Regime, Stage2Regime.Disabled, 0);
            _ctxVersion = t.Registers.Version;
        }
        _access = ExceptionLevel == 2 ? _ctxEl2 : _ctxEl10;
        UpdateAccessClasses();
        ObserversChanged();
    }

    // ---------------------------------------------------------------- accesses

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AccessRequest Access(AccessKind kind)
        => new(kind, ExceptionLevel == 0, _pan && ExceptionLevel != 0 && kind != AccessKind.Execute);

    /// <summary>
    /// Translates <paramref name="address"/> for an access of <paramref name="kind"/> at the current exception level, as an
    /// access would (TLB lookups and fills, walk, hardware Access-flag/dirty updates, cycles), without touching data.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PeTranslation Translate(VirtualAddress address, AccessKind kind)
    {
        ulong va = address.Value;
        ref var slot = ref FastPageTable.SlotFor(kind == AccessKind.Read ? _fastRead : kind == AccessKind.Write ? _fastWrite : _fastFetch, va);
        if (slot.Page == (va & ~0xFFFUL))
        {
            bool fetch = kind == AccessKind.Execute;
            (fetch ? _l1i : _l1d).Touch(slot.Way);
            _cost.ChargeL1Hit(fetch);
            return new PeTranslation(default, va + slot.Addend, TranslationSource.L1Tlb);
        }
        return TranslateNotMemoised(va, kind);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private PeTranslation TranslateNotMemoised(ulong va, AccessKind kind)
    {
        // The owner check is here, off the memoised L1-hit path it would slow by a quarter (OwnerThread).
        _machine.Owner.Check();
        var rc = _access;
        var access = Access(kind);
        var hit = TryHitPaths(rc, va, access, out ulong pa, out var source);
        if (hit == L2HitOutcome.Hit) return new PeTranslation(default, pa, source);
        TranslateSlow(rc, va, access, hit == L2HitOutcome.Miss);
        return new PeTranslation(_result.Fault, _result.Succeeded ? _result.OutputAddress : 0, _rec.Source);
    }

    // The L1 hit path (memoising the hit for its page) and the L2 hit path; otherwise TranslateSlow, told whether both
    // levels were found to miss.
    private L2HitOutcome TryHitPaths(RegimeContext rc, ulong va, AccessRequest access, out ulong pa, out TranslationSource source)
    {
        pa = 0;
        source = TranslationSource.L1Tlb;
        if (!_fast) return L2HitOutcome.Other;
        bool fetch = access.Kind == AccessKind.Execute;
        var l1 = fetch ? _l1i : _l1d;
        ref readonly FastAccess fa = ref access.Kind == AccessKind.Read ? ref _read : ref access.Kind == AccessKind.Write ? ref _write : ref _fetch;
        ulong key = rc.KeyAddress(va, fetch);
        if (Mmu.TryL1Hit(l1, rc, key, in fa, out pa, out int way))
        {
            if (key == va) (fetch ? Tlbs.InstructionPages : Tlbs.DataPages).Fill(access.Kind == AccessKind.Write ? 1 : 0, va, pa, way);
            _cost.ChargeL1Hit(fetch);
            return L2HitOutcome.Hit;
        }
        var outcome = _mmu.TryL2Hit(l1, rc, key, in fa, out pa);
        if (outcome == L2HitOutcome.Hit)
        {
            _cost.ChargeL2Hit(fetch);
            source = TranslationSource.L2Tlb;
        }
        return outcome;
    }

    /// <summary>Loads 1, 2, 4 or 8 bytes (little-endian). An access that crosses a page is split, each part translated.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AccessResult Load(VirtualAddress address, int size)
    {
        ulong va = address.Value;
        ref var slot = ref FastPageTable.SlotFor(_fastRead, va);
        if (slot.Page == (va & ~0xFFFUL) && (va & 0xFFF) + (ulong)size <= 0x1000 && IsAccessSize(size))
        {
            _l1d.Touch(slot.Way);
            _cost.ChargeL1Hit(false);
            ulong pa = va + slot.Addend;
            return new AccessResult(default, _port.Read(pa, size), pa, 0, 1);
        }
        return AccessSlow(va, size, AccessKind.Read, 0);
    }

    // 1, 2, 4 or 8 (bits 1, 2, 4 and 8 of 0x116).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsAccessSize(int size) => (uint)size <= 8 && ((0x116 >> size) & 1) != 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private AccessResult AccessSlow(ulong va, int size, AccessKind kind, ulong value)
    {
        _machine.Owner.Check();
        CheckSize(size);
        return _port.Access(_access, va, size, Access(kind), value);
    }

    /// <summary>
    /// Stores the low <paramref name="size"/> bytes (1, 2, 4 or 8) of <paramref name="value"/>. A store that crosses a
    /// page is two stores (not single-copy atomic); both parts are translated before either is written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    public AccessResult Store(VirtualAddress address, int size, ulong value)
    {
        ulong va = address.Value;
        ref var slot = ref FastPageTable.SlotFor(_fastWrite, va);
        if (slot.Page == (va & ~0xFFFUL) && (va & 0xFFF) + (ulong)size <= 0x1000 && IsAccessSize(size))
        {
            _l1d.Touch(slot.Way);
            _cost.ChargeL1Hit(false);
            ulong pa = va + slot.Addend;
            _port.Write(pa, size, value);
            return new AccessResult(default, 0, pa, 0, 1);
        }
        return AccessSlow(va, size, AccessKind.Write, value);
    }

    /// <summary>Fetches 1, 2, 4 (default) or 8 bytes of instructions.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another size.</exception>
    public AccessResult Fetch(VirtualAddress address, int size = 4)
    {
        ulong va = address.Value;
        ref var slot = ref FastPageTable.SlotFor(_fastFetch, va);
        if (slot.Page == (va & ~0xFFFUL) && (va & 0xFFF) + (ulong)size <= 0x1000 && IsAccessSize(size))
        {
            _l1i.Touch(slot.Way);
            _cost.ChargeL1Hit(true);
            ulong pa = va + slot.Addend;
            return new AccessResult(default, _port.Read(pa, size), pa, 0, 1);
        }
        return AccessSlow(va, size, AccessKind.Execute, 0);
    }

    /// <summary>Loads <paramref name="destination"/>.Length bytes, part by part (one translation per page); stops at the first fault.</summary>
    public AccessResult Load(VirtualAddress address, Span<byte> destination)
    {
        _machine.Owner.Check();
        return _port.Access(_access, address.Value, destination, default, Access(AccessKind.Read));
    }

    /// <summary>Stores <paramref name="source"/>, part by part (one translation per page); parts before a faulting one are written.</summary>
    public AccessResult Store(VirtualAddress address, ReadOnlySpan<byte> source)
    {
        _machine.Owner.Check();
        return _port.Access(_access, address.Value, default, source, Access(AccessKind.Write));
    }

    private static void CheckSize(int size)
    {
        if (size is not (1 or 2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(size), $"access size {size}: allowed 1, 2, 4 or 8 bytes (use the span overloads for other lengths)");
    }

    // With stage 1 disabled a data access is Device-nGnRnE unless HCR_EL2.DC makes it Normal (Arm ARM D8.2.11): it goes to
    // memory. Such accesses always take the slow path (the hit paths need stage 1), so _result holds their attributes.
    internal void ChargeIfUncached(RegimeContext rc, AccessRequest access, int parts)
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
    public AccessResult DataCacheMaintenance(DataCacheOperation op, VirtualAddress address)
    {
        ulong va = address.Value;
        _machine.Owner.Check();
        if (!Enum.IsDefined(op)) throw new ArgumentOutOfRangeException(nameof(op), $"{op} is not a data cache operation (allowed: {string.Join(", ", Enum.GetNames<DataCacheOperation>())})");
        if (!TranslatePart(_access, va, Access(AccessKind.Read), out ulong pa, out var fault)) return new AccessResult(fault, 0, 0, va, 1);
        _cost.ChargeCacheMaintenance();
        return new AccessResult(default, 0, pa, 0, 1);
    }

    // One part of an access (MemoryPort): the L1 hit path, else a full translation; the fault when it fails.
    internal bool TranslatePart(RegimeContext rc, ulong va, AccessRequest access, out ulong pa, out Fault fault)
    {
        fault = default;
        var hit = TryHitPaths(rc, va, access, out pa, out _);
        if (hit == L2HitOutcome.Hit) return true;
        TranslateSlow(rc, va, access, hit == L2HitOutcome.Miss);
        pa = _result.OutputAddress;
        fault = _result.Fault;
        return _result.Succeeded;
    }

    private void TranslateSlow(RegimeContext rc, ulong va, AccessRequest access, bool finalTlbsMissed)
    {
        _rec.Reset(access.Kind == AccessKind.Execute);
        var options = TranslateOptions.UseFinalTlbs | TranslateOptions.HardwareUpdates;
        if (finalTlbsMissed) options |= TranslateOptions.FinalTlbsMissed;
        _mmu.Translate(rc, va, access, true, options, ref _result, ref _rec);
        bool ok = _result.Succeeded;
        _cost.ChargeTranslation(ref _rec, !ok);
        if (_machine.ObserversAttached) NotifyTranslation(va, ok);
    }

    private void NotifyTranslation(ulong va, bool ok)
    {
        var observers = _machine.Observers;
        if (_rec.Conflict)
            foreach (var o in observers) o.OnTlbConflict(PeIndex, new VirtualAddress(va), in _rec.ConflictFirst, in _rec.ConflictSecond);
        if (!ok) return;
        bool fromTlb = _rec.Source is TranslationSource.L1Tlb or TranslationSource.L2Tlb;
        foreach (var o in observers) o.OnTranslationUsed(PeIndex, new VirtualAddress(va), in _result, fromTlb);
    }

    /// <summary>
    /// AT: translates through this PE's TLBs and walk caches as the architecture permits (without hardware updates) and
    /// returns PAR_EL1. UNDEFINED at EL0, for AT S1E2*/S12E* at EL1, and for AT S1E1RP/WP without FEAT_PAN2.
    /// </summary>
    public AtResult At(AtOperation op, VirtualAddress address)
    {
        ulong va = address.Value;
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
    public void WriteDescriptor(PhysicalAddress pa, ulong value)
    {
        _machine.Owner.Check();
        _machine.Memory.WriteUInt64(pa, value, WriteOrigin.Software, PeIndex);
    }

    /// <summary>A 64-bit load from a physical address.</summary>
    public ulong ReadDescriptor(PhysicalAddress pa)
    {
        _machine.Owner.Check();
        return _machine.Memory.ReadUInt64(pa);
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
        if (ExceptionLevel == 1 && hcr.Fb && info.IsEl1Form && info.Shareability == TlbiShareability.NonShareable)
        {
            op = InnerShareableForm[(int)op];
            info = op.Info();
        }
        var scope = TlbiScope.Decode(op, operand, TlbiContext.Of(op, operand, regs, Features));
        int[] targets = info.Shareability switch
        {
            TlbiShareability.NonShareable => _self,
            TlbiShareability.InnerShareable => _machine.InnerMembers(PeIndex),
            _ => _machine.OuterMembers(PeIndex),
        };
        _cost.Statistics.TlbisIssued++;
        _cost.Advance(CycleCategory.TlbiIssue, (ulong)Profile.TlbiIssueCycles);
        var timing = BroadcastTiming.Schedule(Profile, _machine.Interconnect, PeIndex, _cost.Cycles, targets.Length);
        _maintenance.Add(new TlbiMatcher(scope), targets, timing, info.Shareability);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnTlbi(PeIndex, in scope, targets);
        return InstructionStatus.Executed;
    }

    void ITableMaintenance.Tlbi(TlbiOp op, ulong operand)
    {
        if (Tlbi(op, operand) == InstructionStatus.Undefined)
            throw new InvalidOperationException($"TLBI {op.Info().Name} is UNDEFINED on PE {PeIndex} at EL{ExceptionLevel}: {TlbiUndefinedReason(op)}");
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
        if (option.CompletesMaintenance && _maintenance.Count != 0) finish = Math.Max(finish, _maintenance.Complete(option.Domain));
        _cost.AdvanceTo(CycleCategory.Barrier, finish);
        if (_machine.ObserversAttached)
            foreach (var o in _machine.Observers) o.OnDsb(PeIndex, option);
    }

    private static DsbOption Upgrade(DsbOption option, int bsu)
    {
        var floor = bsu switch { 1 => BarrierDomain.InnerShareable, 2 => BarrierDomain.OuterShareable, 3 => BarrierDomain.FullSystem, _ => BarrierDomain.NonShareable };
        return option.Domain < floor ? option with { Domain = floor } : option;
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
