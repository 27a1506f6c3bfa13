using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Exploration;

/// <summary>How a translation of one access with one descriptor value ends.</summary>
/// <param name="Fault">The fault (<see cref="FaultKind.None"/> on success).</param>
/// <param name="PhysicalAddress">The output address on success.</param>
/// <param name="UpdatedDescriptor">The descriptor the hardware Access flag/dirty update writes, or 0 when none is needed.</param>
public readonly record struct TranslationOutcome(FaultKind Fault, ulong PhysicalAddress, ulong UpdatedDescriptor)
{
    /// <summary>True when the access may proceed.</summary>
    public bool Succeeded => Fault == FaultKind.None;

    /// <summary>
    /// True when the walk result may be held in a TLB: anything but a Translation or Access flag fault (Arm ARM
    /// R_XCLRD; herd7's TLBUncacheable = MMU &amp; (Translation | AccessFlag)).
    /// </summary>
    public bool Cacheable => Fault is not (FaultKind.Translation or FaultKind.AccessFlag);
}

/// <summary>
/// The machine a litmus test runs on: every variable is a 4 KiB page of its own, at its own virtual page, mapped by
/// its own level-3 descriptor in real EL1&amp;0 stage-1 tables (4 KiB granule, 48-bit VA, 4 levels) built with
/// <see cref="TableBuilder"/> and read back through <see cref="AddressSpace"/>. Each thread is a PE with its own
/// <see cref="AddressTranslator"/> (TCR_EL1.HA/HD from the test's TTHM line); every translation outcome comes from the
/// project's <see cref="Walker"/> walking those tables.
/// </summary>
public sealed class LitmusMachine
{
    /// <summary>Virtual address of the first variable; variable i is at <c>VirtualBase + i·4 KiB</c>.</summary>
    public const ulong VirtualBase = 0x0000_0040_0000_0000UL;
    /// <summary>Physical address of the first variable's page.</summary>
    public const ulong PhysicalBase = 0x0000_0000_8000_0000UL;
    private const ulong TableRegion = 0x4000_0000UL, TableRegionSize = 0x0010_0000UL;
    private const ulong PageSize = 4096;
    private const ulong Sctlr = 0x30D0_1805UL; // M, C, I and RES1 bits

    private readonly PhysicalMemory _memory = new();
    private readonly AddressTranslator[] _translators;
    private readonly Dictionary<(int Config, int Page, ulong Value, bool Write), TranslationOutcome> _outcomes = new();
    private readonly int[] _config;

    /// <summary>Builds the tables and the PEs for <paramref name="test"/>.</summary>
    public LitmusMachine(LitmusTest test)
    {
        Test = test ?? throw new ArgumentNullException(nameof(test));
        Variables = test.Variables;
        var geometry = Geometries.Stage1(Granule.Size4K, 48);
        var allocator = new TableAllocator(_memory, new PhysicalAddress(TableRegion), TableRegionSize);
        var builder = new TableBuilder(allocator, geometry);
        var defaults = new PteValue(null).AttributeBits();
        for (int i = 0; i < Variables.Count; i++) builder.Map(new VirtualAddress(VirtualAddressOf(i)), new PhysicalAddress(PhysicalAddressOf(i)), 3, defaults);
        Space = new AddressSpace(allocator, new AddressSpaceDefinition { Regime = Regime.El10, Geometry = geometry }, builder.RootPhysical);
        DescriptorAddresses = new ulong[Variables.Count];
        InitialDescriptors = new ulong[Variables.Count];
        for (int i = 0; i < Variables.Count; i++)
        {
            DescriptorAddresses[i] = Space.DescriptorAddress(new VirtualAddress(VirtualAddressOf(i)), 3)?.Value
                ?? throw new InvalidOperationException($"no level-3 descriptor for {Variables[i]}");
            InitialDescriptors[i] = _memory.ReadWord(DescriptorAddresses[i]);
        }
        foreach (var d in test.Descriptors)
        {
            int i = IndexOf(d.Symbol);
            InitialDescriptors[i] = Encode(d.Value with { OutputSymbol = d.Value.OutputSymbol ?? d.Symbol });
        }

        int threads = test.Threads.Count;
        _translators = new AddressTranslator[threads];
        _config = new int[threads];
        var mair = Mair.FromAttributes(0xFF, 0x00, 0x44); // Attr0 Normal WB (herd7's default memory type), Attr1 Device, Attr2 Normal NC
        for (int t = 0; t < threads; t++)
        {
            var tr = new AddressTranslator(_memory, ProcessorFeatures.QemuMax);
            bool ha = test.HardwareAccessFlag[t], hd = test.HardwareDirty[t];
            tr.Registers.TcrEl1 = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb()
                .WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25).WithHaHd(ha, hd);
            tr.Registers.MairEl1 = mair;
            tr.Registers.Ttbr0El1 = Ttbr.Create(Space.Root, 0);
            tr.Registers.SctlrEl1 = new Sctlr(Sctlr);
            _translators[t] = tr;
            _config[t] = (ha ? 1 : 0) | (hd ? 2 : 0) | (test.AtEl0[t] ? 4 : 0);
        }
    }

    /// <summary>The test.</summary>
    public LitmusTest Test { get; }
    /// <summary>The variables; a variable's index is its page number.</summary>
    public IReadOnlyList<string> Variables { get; }
    /// <summary>The stage-1 tables.</summary>
    public AddressSpace Space { get; }
    /// <summary>Physical address of each variable's level-3 descriptor.</summary>
    public ulong[] DescriptorAddresses { get; }
    /// <summary>Each variable's descriptor before the threads run.</summary>
    public ulong[] InitialDescriptors { get; }

    /// <summary>The variable's virtual address.</summary>
    public static ulong VirtualAddressOf(int variable) => VirtualBase + (ulong)variable * PageSize;
    /// <summary>The variable's physical page.</summary>
    public static ulong PhysicalAddressOf(int variable) => PhysicalBase + (ulong)variable * PageSize;

    /// <summary>The index of a variable.</summary>
    public int IndexOf(string symbol)
    {
        for (int i = 0; i < Variables.Count; i++) if (Variables[i] == symbol) return i;
        throw new ArgumentException($"unknown variable {symbol}", nameof(symbol));
    }

    /// <summary>The variable whose virtual page holds <paramref name="va"/>, or −1.</summary>
    public int PageOfVirtual(ulong va)
    {
        if (va < VirtualBase) return -1;
        ulong i = (va - VirtualBase) / PageSize;
        return i < (ulong)Variables.Count ? (int)i : -1;
    }

    /// <summary>The variable whose physical page holds <paramref name="pa"/>, or −1.</summary>
    public int PageOfPhysical(ulong pa)
    {
        if (pa < PhysicalBase) return -1;
        ulong i = (pa - PhysicalBase) / PageSize;
        return i < (ulong)Variables.Count ? (int)i : -1;
    }

    /// <summary>The variable whose descriptor is at <paramref name="pa"/>, or −1.</summary>
    public int DescriptorIndexOf(ulong pa) => Array.IndexOf(DescriptorAddresses, pa);

    /// <summary>The real descriptor for a herd7 record (a record without oa must have been resolved by the caller).</summary>
    public ulong Encode(PteValue p)
    {
        string sym = p.OutputSymbol ?? throw new ArgumentException("descriptor record without an output address", nameof(p));
        return Descriptor.EncodeAddress(PhysicalAddressOf(IndexOf(sym)), Descriptor.AddressFormat.Bits48) | p.AttributeBits();
    }

    /// <summary>The herd7 record for a descriptor, or null when its output address is not a variable's page.</summary>
    public PteValue? DecodeDescriptor(ulong d)
    {
        int page = PageOfPhysical(Descriptor.Address(d, 12, Descriptor.AddressFormat.Bits48));
        return page < 0 ? null : PteValue.FromDescriptor(d, Variables[page]);
    }

    /// <summary>
    /// Translates an access of <paramref name="thread"/> to variable <paramref name="page"/> as the project's walker does
    /// when the variable's descriptor holds <paramref name="descriptor"/>. Memoised: the tables above level 3 never change.
    /// </summary>
    public TranslationOutcome Translate(int thread, int page, ulong descriptor, bool write)
    {
        var key = (_config[thread], page, descriptor, write);
        if (_outcomes.TryGetValue(key, out var o)) return o;
        var tr = _translators[thread];
        _memory.WriteWord(DescriptorAddresses[page], descriptor, WriteOrigin.Software, -1);
        var access = new AccessRequest(write ? AccessKind.Write : AccessKind.Read, Unprivileged: Test.AtEl0[thread]);
        WalkResult r = default;
        tr.Walker.Translate(tr.El10, Stage2Regime.Disabled, new VirtualAddress(VirtualAddressOf(page)), access, false, ref r);
        ulong update = 0;
        if (r.Succeeded && r.Stage1UpdatePending)
        {
            // FEAT_HAFDBS: the Access flag is set and, for a write to a writable-clean (DBM=1) page with TCR.HD=1,
            // AP[2] is cleared, in one atomic read-modify-write of the descriptor (Arm ARM D8.4.2, D8.4.6).
            update = descriptor | Descriptor.Af;
            if (write && tr.El10.Hd && (descriptor & (Descriptor.Dbm | Descriptor.Ap2)) == (Descriptor.Dbm | Descriptor.Ap2)) update &= ~Descriptor.Ap2;
        }
        o = new TranslationOutcome(r.Fault.Kind, r.OutputAddress, update);
        _outcomes[key] = o;
        return o;
    }

    /// <summary>Whether any thread manages the Access flag in hardware (then the architecture lets it be set spontaneously).</summary>
    public bool AnyHardwareAccessFlag => Test.HardwareAccessFlag.Any(h => h);
}
