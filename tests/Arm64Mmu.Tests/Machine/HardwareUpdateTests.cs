using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Setups;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// FEAT_HAFDBS hardware updates as the architecture defines them, through loads and stores (which update) and AT (which
/// reports but, in this model, never writes): the Access flag is set on the first access (Arm ARM D8.5.4, R_PRJCH and
/// AArch64.SetAccessFlag), a write to a writable-clean page (DBM=1) makes it dirty — stage 1 clears AP[2], stage 2 sets
/// S2AP[1] (D8.5.5; AArch64.SetDirtyState) — and a stage-1 descriptor update is a write to its table page at stage 2
/// (D8.5.6: S1PTW write; QEMU arm_casq_ptw), so that page must be writable or writable-clean there.
/// </summary>
public class HardwareUpdateTests
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0000_0000UL);
    private static readonly IntermediatePhysicalAddress Ipa = new(0x8000_0000UL);
    private static readonly PhysicalAddress Pa = new(0x1_0000_0000UL);
    private const ulong S1Tables = 0x4000_0000UL, S2Tables = 0x5000_0000UL;

    /// <summary>One PE at EL1, stage 1 mapping <see cref="Va"/> to <see cref="Ipa"/>, optionally under stage 2 (IPA → <see cref="Pa"/>).</summary>
    private sealed class World
    {
        public readonly Arm64Mmu.Machine.Machine M;
        public readonly TableBuilder S1;
        public readonly TableBuilder? S2;
        public ProcessingElement Pe => M[0];

        public World(ulong s1Leaf, bool ha, bool hd, ulong? s2Leaf = null, bool s2Ha = false, bool s2Hd = false, ulong? s2TablePage = null)
        {
            M = new MachineBuilder().WithProcessingElements(2).WithProfile(CoreProfile.NeoverseN1).WithFeatures(ProcessorFeatures.QemuMax)
                .WithInitialExceptionLevel(2).Build();
            S1 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S1Tables), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
            S1.Map(Va, Ipa, 3, s1Leaf);
            if (s2Leaf is { } l2)
            {
                S2 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S2Tables), 0x10_0000), Geometries.Stage2(Granule.Size4K, 48, 0));
                // The stage-1 tables at IPA = PA, one 4 KiB stage-2 page per table page.
                for (ulong off = 0; off < 0x10_0000; off += 0x1000)
                    S2.Map(new IntermediatePhysicalAddress(S1Tables + off), new PhysicalAddress(S1Tables + off), 3, s2TablePage ?? Descriptor.Stage2Leaf(0, page: true));
                S2.Map(Ipa, Pa, 3, l2);
            }
            M.Memory.WriteUInt64(Pa, 0x1234);
            M.Memory.WriteUInt64(new PhysicalAddress(Ipa.Value), 0x5678);   // the page stage 1 maps when there is no stage 2 (IPA = PA)
            foreach (var pe in M.ProcessingElements)
            {
                pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
                pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithHaHd(ha, hd));
                pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(S1.Root, 1));
                pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
                if (S2 is not null)
                {
                    pe.Msr(Sysreg.VtcrEl2, new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K)
                        .WithPs(48).WithWalkAttributesInnerWb().WithHaHd(s2Ha, s2Hd));
                    pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(S2.Root, vmid: 1));
                    pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithVm(true));
                }
                pe.ChangeExceptionLevel(1);
            }
        }

        public ulong Pte => M.Memory.ReadUInt64(S1.SlotFor(Va, 3, allocate: false));
        public ulong S2Pte => M.Memory.ReadUInt64(S2!.SlotFor(Ipa, 3, allocate: false));
        public ulong S2TablePte => M.Memory.ReadUInt64(S2!.SlotFor(new IntermediatePhysicalAddress(S1.SlotFor(Va, 3, allocate: false).Value), 3, allocate: false));
    }

    private static ulong S1Leaf(bool af = true, bool readOnly = false, bool dbm = false)
    {
        ulong d = Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, readOnly: readOnly);
        if (!af) d &= ~Descriptor.Af;
        if (dbm) d |= Descriptor.Dbm;
        return d;
    }

    private static ulong S2Leaf(bool af = true, bool write = true, bool dbm = false)
    {
        ulong d = Descriptor.Stage2Leaf(0, page: true, write: write);
        if (!af) d &= ~Descriptor.Af;
        if (dbm) d |= Descriptor.Dbm;
        return d;
    }

    [Fact]
    public void Load_SetsTheStage1AccessFlag_AtSetsNothing()
    {
        var w = new World(S1Leaf(af: false), ha: true, hd: false);
        ulong before = w.Pte;
        w.Pe.At(AtOperation.S1E1R, Va).Par.Faulted.Should().BeFalse("with TCR.HA=1 an AF=0 entry translates");
        w.Pte.Should().Be(before, "AT reports what an access would do and writes nothing");
        w.Pe.Load(Va, 8).Value.Should().Be(0x5678);
        w.Pte.Should().Be(before | Descriptor.Af, "the access sets AF and changes nothing else");
        w.Pe.Statistics.HardwareUpdates.Should().Be(1);
    }

    [Fact]
    public void WithoutHa_AnAf0Entry_GivesAnAccessFlagFault_AndIsNotWritten()
    {
        var w = new World(S1Leaf(af: false), ha: false, hd: false);
        ulong before = w.Pte;
        w.Pe.Load(Va, 8).Fault.Should().Be(new Fault(FaultKind.AccessFlag, 3, 1, false, 0));
        w.Pte.Should().Be(before);
    }

    [Fact]
    public void Store_ToAWritableCleanPage_ClearsApTwo_ReadAndAtWriteDoNot()
    {
        var w = new World(S1Leaf(readOnly: true, dbm: true), ha: true, hd: true);
        ulong clean = w.Pte;
        w.Pe.At(AtOperation.S1E1W, Va).Par.Faulted.Should().BeFalse("DBM=1 with TCR.HD=1 makes the page writable");
        w.Pe.Load(Va, 8).Succeeded.Should().BeTrue();
        w.Pte.Should().Be(clean, "a read leaves a writable-clean page clean");
        w.Pe.Store(Va, 8, 7).Succeeded.Should().BeTrue();
        w.Pte.Should().Be(clean & ~Descriptor.Ap2, "the first write makes it dirty: AP[2] cleared, DBM kept");
        w.M.Memory.ReadUInt64(new PhysicalAddress(Ipa.Value)).Should().Be(7);
    }

    [Fact]
    public void Load_SetsTheStage2AccessFlag_AtS12SetsNothing()
    {
        var w = new World(S1Leaf(), ha: false, hd: false, s2Leaf: S2Leaf(af: false), s2Ha: true);
        ulong before = w.S2Pte;
        w.Pe.ChangeExceptionLevel(2);
        w.Pe.At(AtOperation.S12E1R, Va).Par.Should().Be(Par.Success(Pa.Value, MemoryAttributes.NormalWriteBack, Shareability.Inner),
            "with VTCR_EL2.HA=1 an AF=0 stage-2 entry translates");
        w.Pe.ChangeExceptionLevel(1);
        w.S2Pte.Should().Be(before);
        w.Pe.Load(Va, 8).Value.Should().Be(0x1234);
        w.S2Pte.Should().Be(before | Descriptor.Af);
    }

    [Fact]
    public void WithoutStage2Ha_AnAf0Stage2Entry_GivesAStage2AccessFlagFault()
        => new World(S1Leaf(), ha: false, hd: false, s2Leaf: S2Leaf(af: false)).Pe.Load(Va, 8).Fault
            .Should().Be(new Fault(FaultKind.AccessFlag, 3, 2, false, Ipa.Value));

    [Fact]
    public void Store_ToAWritableCleanStage2Page_SetsS2ApWrite()
    {
        var w = new World(S1Leaf(), ha: false, hd: false, s2Leaf: S2Leaf(write: false, dbm: true), s2Ha: true, s2Hd: true);
        ulong clean = w.S2Pte;
        w.Pe.Load(Va, 8).Succeeded.Should().BeTrue();
        w.S2Pte.Should().Be(clean);
        w.Pe.Store(Va, 8, 9).Succeeded.Should().BeTrue();
        w.S2Pte.Should().Be(clean | Descriptor.S2ApWrite);
        // The IPA cache now holds the dirty descriptor once: after the combined entries go, a walk uses it without a TLB conflict.
        w.Pe.Tlbi(TlbiOp.Vmalle1);
        w.Pe.Dsb(DsbOption.Nsh);
        w.Pe.Load(Va, 8).Value.Should().Be(9);
        w.Pe.Statistics.TlbConflicts.Should().Be(0);
        w.Pe.Tlbs.Entries(TlbStructure.IpaCache).Count(t => t.Leaf && t.InputBase == Ipa.Value).Should().Be(1);
    }

    [Fact]
    public void WithoutStage2Hd_AWriteToADbmPageWithoutS2ApWrite_IsAStage2PermissionFault()
        => new World(S1Leaf(), ha: false, hd: false, s2Leaf: S2Leaf(write: false, dbm: true), s2Ha: true).Pe.Store(Va, 8, 1).Fault
            .Should().Be(new Fault(FaultKind.Permission, 3, 2, false, Ipa.Value));

    [Fact]
    public void Stage1Update_MakesAWritableCleanTablePageDirtyAtStage2First()
    {
        var w = new World(S1Leaf(af: false), ha: true, hd: false, s2Leaf: S2Leaf(), s2Ha: true, s2Hd: true,
            s2TablePage: S2Leaf(write: false, dbm: true));
        ulong tablePage = w.S2TablePte;
        w.Pe.Load(Va, 8).Succeeded.Should().BeTrue();
        w.Pte.Should().Match(d => (d & Descriptor.Af) != 0);
        w.S2TablePte.Should().Be(tablePage | Descriptor.S2ApWrite, "the AF update is a write to the table page at stage 2");
        w.Pe.Statistics.HardwareUpdates.Should().Be(2);
    }

    [Fact]
    public void Stage1Update_OfADescriptorInATablePageReadOnlyAtStage2_IsAStage2PermissionFaultOnTheWalk()
    {
        var w = new World(S1Leaf(af: false), ha: true, hd: false, s2Leaf: S2Leaf(), s2TablePage: S2Leaf(write: false));
        ulong before = w.Pte;
        var pteIpa = w.S1.SlotFor(Va, 3, allocate: false); // tables sit at IPA = PA
        w.Pe.Load(Va, 8).Fault.Should().Be(new Fault(FaultKind.Permission, 3, 2, true, pteIpa.Value),
            "a stage-2 fault on the walk's write: S1PTW=1, IPA of the descriptor (HPFAR_EL2)");
        w.Pte.Should().Be(before);
    }
}
