using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Simulation.Configuration;
using Arm64Mmu.Simulation.Paging;

namespace Arm64Mmu.Simulation;

/// <summary>
/// The machine a simulation runs on: the trace PEs at EL0 (EL1&amp;0 regime, a guest's when stage 2 is on), one more
/// PE — the "paging PE", at EL1 (EL2 with stage 2) — that maps pages on first touch the way a kernel (and hypervisor)
/// would, and the demand pagers of every address space. Physical layout: frames handed out from
/// [0, phys_mem), stage-1 tables in [2^pa − 2g, 2^pa − 1g), stage-2 tables in [2^pa − 1g, 2^pa); with stage 2 the
/// guest sees its frames at IPAs [0, phys_mem) and its tables at IPAs [2^ipa − 1g, 2^ipa).
/// </summary>
internal sealed class SimulatedSystem
{
    // MAIR_EL1: Attr0 Device-nGnRnE, Attr1 Normal write-back (the pages' AttrIndx), Attr2 Normal non-cacheable, as Linux.
    private static readonly Mair Mair = Mair.FromAttributes(0x00, 0xFF, 0x44);
    // SCTLR_EL1: M (stage 1 on), C, I and the RES1 bits.
    private const ulong SctlrMmuOn = 0x30D0_1805UL;
    private readonly TableAllocator _s1Tables;
    private readonly TableAllocator? _s2Tables;
    private readonly DemandPager? _stage2TableRegion;
    private readonly ulong _s1TableIpa;
    private readonly ulong _granuleBytes;
    private ulong _tableRegionMapped;

    public SimulatedSystem(SimulationSettings s)
    {
        Settings = s;
        int n = s.Pes;
        bool stage2 = s.Stage2 is not null;
        Machine = new MachineBuilder().WithProcessingElements(n + 1).WithProfile(s.Profile).WithFeatures(s.Features)
            .WithInitialExceptionLevel(stage2 ? 2 : 1).Build();
        Os = Machine[n];
        var memory = Machine.Memory;
        ulong top = 1UL << s.PaBits;
        ulong s1TablePa = top - 2 * SimulationSettings.TableRegionBytes;
        _s1Tables = new TableAllocator(memory, new PhysicalAddress(s1TablePa), SimulationSettings.TableRegionBytes);
        var s1Geo = s.Stage1Geometry;
        _granuleBytes = s1Geo.Granule.Bytes();
        var guestFrames = PhysicalAllocator.Create(s.Allocation, s.PhysicalMemory, s1Geo.GranuleBits, s1Geo.LevelShift(2), s.Fragmentation, s.Seed,
            stage2 ? "guest memory (IPA space)" : "physical memory");

        Action<ulong, ulong>? toStage2 = null;
        AddressSpace? s2Space = null;
        if (stage2)
        {
            var s2Geo = s.Stage2Geometry;
            _s2Tables = new TableAllocator(memory, new PhysicalAddress(top - SimulationSettings.TableRegionBytes), SimulationSettings.TableRegionBytes);
            s2Space = AddressSpace.ForStage2(_s2Tables, s2Geo, vmid: 1);
            var hostFrames = PhysicalAllocator.Create(s.Allocation, s.PhysicalMemory, s2Geo.GranuleBits, s2Geo.LevelShift(2), s.Fragmentation,
                PhysicalAllocator.Mix(s.Seed ^ 0x5354_4147_4532UL), "host physical memory");
            ulong s2Leaf = Descriptor.Stage2Leaf(0, page: true, format: s2Geo.Format);
            Stage2Data = new DemandPager(s2Space, Os, hostFrames, s.Stage2PageSize, s2Leaf);
            _s1TableIpa = (1UL << s.IpaBits) - SimulationSettings.TableRegionBytes;
            _stage2TableRegion = new DemandPager(s2Space, Os, new LinearAllocator(s1TablePa - _s1TableIpa, "the guest's table region"), s.Stage2PageSize, s2Leaf);
            var data = Stage2Data;
            toStage2 = (ipa, size) => data.EnsureRange(ipa, size);
        }
        ulong viewOffset = stage2 ? s1TablePa - _s1TableIpa : 0;

        ulong userLeaf = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, el0: true, format: s1Geo.Format);
        AddressSpace Space(ushort? asid, bool upper) => new(_s1Tables, new AddressSpaceDefinition
        {
            Regime = Regime.El10, Geometry = s1Geo, Asid = asid, UpperRange = upper, TableViewOffset = viewOffset,
        });
        DemandPager Pager(AddressSpace space, ulong leaf) => new(space, Os, guestFrames, s.PageSize, leaf)
        {
            OutputMapped = (output, size) =>
            {
                toStage2?.Invoke(output, size);
                MapTableRegion();
            },
        };

        Lower = new DemandPager[n];
        if (s.Processes)
        {
            for (int i = 0; i < n; i++) Lower[i] = Pager(Space((ushort)(i + 1), false), userLeaf | Descriptor.NotGlobal);
        }
        else
        {
            var shared = Pager(Space(1, false), userLeaf | Descriptor.NotGlobal);
            Array.Fill(Lower, shared);
        }
        // The TTBR1 half is global (a kernel's); traces rarely touch it (x86-64's vsyscall page).
        Upper = Pager(Space(null, true), userLeaf);
        MapTableRegion();
        Program(stage2, s1Geo, s2Space);
    }

    public SimulationSettings Settings { get; }
    public Machine.Machine Machine { get; }
    /// <summary>The paging PE.</summary>
    public ProcessingElement Os { get; }
    /// <summary>The TTBR0 pager of each trace PE (one shared instance for threads).</summary>
    public DemandPager[] Lower { get; }
    /// <summary>The TTBR1 pager.</summary>
    public DemandPager Upper { get; }
    /// <summary>The stage-2 pager of the guest's frames, or null.</summary>
    public DemandPager? Stage2Data { get; }

    /// <summary>Distinct stage-1 pagers.</summary>
    public IEnumerable<DemandPager> Stage1Pagers => Lower.Distinct().Append(Upper);
    /// <summary>Distinct stage-2 pagers.</summary>
    public IEnumerable<DemandPager> Stage2Pagers => Stage2Data is null ? [] : [Stage2Data, _stage2TableRegion!];

    /// <summary>Bytes of translation tables in use.</summary>
    public ulong TableBytes => _s1Tables.BytesInUse + (_s2Tables?.BytesInUse ?? 0);

    // With stage 2 the guest's table pages are IPAs too: stage 2 maps the region ahead of the table allocator. Its
    // high-water mark is at most the bytes in use plus what promotions freed (one last-level table each).
    private void MapTableRegion()
    {
        if (_stage2TableRegion is null) return;
        long promotions = Lower.Distinct().Sum(p => p.Promotions) + Upper.Promotions;
        ulong need = _s1Tables.BytesInUse + (ulong)(promotions + 16) * _granuleBytes;
        if (need <= _tableRegionMapped) return;
        need = Math.Min(need, SimulationSettings.TableRegionBytes);
        _stage2TableRegion.EnsureRange(_s1TableIpa + _tableRegionMapped, need - _tableRegionMapped);
        _tableRegionMapped = need;
    }

    private void Program(bool stage2, TranslationGeometry s1Geo, AddressSpace? s2Space)
    {
        var s = Settings;
        bool ds = s.Ds(s.Granule);
        var tcr = new Tcr(0).WithT0sz(64 - s.VaBits).WithT1sz(64 - s.VaBits).WithTg0(s.Granule).WithTg1(s.Granule)
            .WithIps(s.PaBits).WithWalkAttributesInnerWb().WithEpd(false, false).WithAs(s.Features.AsidBits == 16).WithDs(ds);
        Vtcr vtcr = default;
        if (stage2)
        {
            var g2 = s.Stage2!.Value;
            vtcr = new Vtcr(0).WithT0sz(64 - s.IpaBits).WithTg0(g2).WithPs(s.PaBits).WithWalkAttributesInnerWb().WithDs(s.Ds(g2));
            vtcr = s.Stage2StartLevel < 0 ? vtcr.WithSl2(true).WithSl0(0) : vtcr.WithSl0(Vtcr.Sl0ForStartLevel(g2, s.Stage2StartLevel));
        }
        for (int i = 0; i < Machine.Count; i++)
        {
            var pe = Machine[i];
            bool os = pe == Os;
            if (stage2)
            {
                pe.Msr(Sysreg.VtcrEl2, vtcr);
                pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(s2Space!.Root, vmid: 1));
                pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithVm(true));
            }
            var lower = os ? Lower[0].Space : Lower[i].Space;
            pe.Msr(Sysreg.MairEl1, Mair);
            pe.Msr(Sysreg.TcrEl1, tcr);
            pe.Msr(Sysreg.Ttbr0El1, lower.Ttbr);
            pe.Msr(Sysreg.Ttbr1El1, Upper.Space.Ttbr);
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(SctlrMmuOn));
            pe.Isb();
            if (!os) pe.ChangeExceptionLevel(0);
        }
    }
}
