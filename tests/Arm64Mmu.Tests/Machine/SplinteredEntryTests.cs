using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Setups;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// A block held as several smaller TLB entries — a guest's stage-1 block over smaller stage-2 pages (combined entries
/// are no larger than either stage's leaf), or a block larger than a structure's largest entry (Cortex-A53 holds a
/// 1 GiB block as 512 MiB entries) — is removed whole by TLB maintenance by address that selects the block: "all
/// entries cut from it, regardless of whether the entry would be used to translate the address being invalidated"
/// (Arm ARM D8.16, R_TVTYQ; the stage-2 bullet of the same rule for IPAS2E1). Each test caches two pieces on two PEs,
/// changes the block with break-before-make using one maintenance instruction that names one address of the block, and
/// expects every PE to see the new mapping at both pieces.
/// </summary>
public class SplinteredEntryTests
{
    private const ulong S1Tables = 0x4000_0000UL, S2Tables = 0x5000_0000UL;
    private static readonly VirtualAddress BlockVa = new(0x0000_0040_0020_0000UL);    // a 2 MiB stage-1 block
    private static readonly VirtualAddress GiantVa = new(0x0000_0040_4000_0000UL);    // a 1 GiB stage-1 block
    private static readonly VirtualAddress PageVa = new(0x0000_0040_0000_0000UL);     // 4 KiB pages into a 1 GiB stage-2 block

    private sealed class World
    {
        public readonly Arm64Mmu.Machine.Machine M;
        public readonly TableBuilder S1;
        public readonly TableBuilder? S2;

        public World(CoreProfile profile, bool stage2)
        {
            M = new MachineBuilder().WithProcessingElements(2).WithProfile(profile).WithFeatures(ProcessorFeatures.QemuMax)
                .WithInitialExceptionLevel(2).Build();
            S1 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S1Tables), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
            if (stage2)
            {
                S2 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S2Tables), 0x10_0000), Geometries.Stage2(Granule.Size4K, 48, 0));
                S2.Map(new IntermediatePhysicalAddress(S1Tables), new PhysicalAddress(S1Tables), 2, Descriptor.Stage2Leaf(0, page: false));
            }
            foreach (var pe in M.ProcessingElements)
            {
                pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
                pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithAs(true));
                pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(S1.Root, 1));
                pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
                if (S2 is not null)
                {
                    pe.Msr(Sysreg.VtcrEl2, new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K)
                        .WithPs(48).WithWalkAttributesInnerWb());
                    pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(S2.Root, vmid: 1));
                    pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithVm(true));
                }
                pe.ChangeExceptionLevel(1);
            }
        }

        // A marker word holding its own PA, so a load tells which translation was used.
        public void Mark(ulong pa) => M.Memory.WriteUInt64(new PhysicalAddress(pa), pa);

        /// <summary>
        /// Break-before-make of the stage-1 block at <paramref name="va"/> (a level-<paramref name="level"/> entry) by PE 0,
        /// with the one TLBI under test, then the new block to <paramref name="output"/>.
        /// </summary>
        public void ReplaceBlock(ulong va, int level, ulong output, TlbiOp op, ulong operand)
        {
            var p0 = M[0];
            var slot = S1.SlotFor(new VirtualAddress(va), level, allocate: false);
            p0.WriteDescriptor(slot, 0);
            p0.Dsb(DsbOption.Ishst);
            p0.Tlbi(op, operand).Should().Be(InstructionStatus.Executed);
            p0.Dsb(DsbOption.Ish);
            p0.WriteDescriptor(slot, Descriptor.Stage1Leaf(output, page: false, attrIndx: 1));
            p0.Dsb(DsbOption.Ish);
        }

        public ulong Load(int pe, ulong va)
        {
            var r = M[pe].Load(new VirtualAddress(va), 8);
            r.Succeeded.Should().BeTrue($"PE{pe} load 0x{va:x}: {r}");
            return r.Value;
        }
    }

    public static TheoryData<string, TlbiOp, ulong> Stage1BlockInvalidations() => new()
    {
        { "VAE1IS at the block base, TTL level 2", TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa, 1, ttlLevel: 2) },
        { "VALE1IS at the block base, TTL level 2", TlbiOp.Vale1Is, TlbiOperand.Va(BlockVa, 1, ttlLevel: 2) },
        { "VAE1IS at one piece's page, no TTL", TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa + 0x5000, 1) },
        { "RVAE1IS over the block's first 8 KiB", TlbiOp.Rvae1Is, TlbiOperand.Range(BlockVa, 0, 0, Granule.Size4K, false, 1, 2) },
    };

    [Theory]
    [MemberData(nameof(Stage1BlockInvalidations))]
    public void GuestBlockOverStage2Pages_IsRemovedWhole_ByOneTlbiSelectingTheBlock(string what, TlbiOp op, ulong operand)
    {
        var w = new World(CoreProfile.NeoverseN1, stage2: true);
        const ulong ipa = 0x8020_0000UL, ipa2 = 0x8060_0000UL, pa = 0x1_0020_0000UL, pa2 = 0x1_0060_0000UL;
        w.S1.Map(BlockVa, new PhysicalAddress(ipa), 2, Descriptor.Stage1Leaf(0, page: false, attrIndx: 1));
        for (ulong off = 0; off < 0x20_0000; off += 0x1000)
        {
            w.S2!.Map(new IntermediatePhysicalAddress(ipa + off), new PhysicalAddress(pa + off), 3, Descriptor.Stage2Leaf(0, page: true));
            w.S2.Map(new IntermediatePhysicalAddress(ipa2 + off), new PhysicalAddress(pa2 + off), 3, Descriptor.Stage2Leaf(0, page: true));
        }
        ulong[] offsets = [0x5000, 0x1F_0000];
        foreach (ulong off in offsets)
        {
            w.Mark(pa + off);
            w.Mark(pa2 + off);
            for (int pe = 0; pe < 2; pe++) w.Load(pe, (BlockVa + off).Value).Should().Be(pa + off);
        }
        w.M[0].Tlbs.Entries(TlbStructure.L2).Should().Contain(t => t.SizeShift == 12 && t.DescriptorSizeShift == 21,
            "combined entries are 4 KiB pieces of the 2 MiB stage-1 block");

        w.ReplaceBlock(BlockVa.Value, 2, ipa2, op, operand);

        foreach (ulong off in offsets)
            for (int pe = 0; pe < 2; pe++) w.Load(pe, (BlockVa + off).Value).Should().Be(pa2 + off, $"{what}: PE{pe} at block + 0x{off:x}");
    }

    [Fact]
    public void LocalVae1_RemovesEveryPieceOnTheIssuingPe()
    {
        var w = new World(CoreProfile.NeoverseN1, stage2: true);
        const ulong ipa = 0x8020_0000UL, pa = 0x1_0020_0000UL, pa2 = 0x1_0060_0000UL;
        w.S1.Map(BlockVa, new PhysicalAddress(ipa), 2, Descriptor.Stage1Leaf(0, page: false, attrIndx: 1));
        for (ulong off = 0; off < 0x20_0000; off += 0x1000) w.S2!.Map(new IntermediatePhysicalAddress(ipa + off), new PhysicalAddress(pa + off), 3, Descriptor.Stage2Leaf(0, page: true));
        w.Mark(pa + 0x1F_0000);
        w.Mark(pa2 + 0x1F_0000);
        w.Load(0, (BlockVa + 0x1F_0000).Value).Should().Be(pa + 0x1F_0000);
        // The stage-2 page under the piece moves; the piece is invalidated by a local TLBI naming the block's base.
        var p0 = w.M[0];
        p0.ChangeExceptionLevel(2);
        var s2slot = w.S2!.SlotFor(new IntermediatePhysicalAddress(ipa + 0x1F_0000), 3, allocate: false);
        p0.WriteDescriptor(s2slot, 0);
        p0.Dsb(DsbOption.Nsh);
        p0.Tlbi(TlbiOp.Ipas2e1, TlbiOperand.Ipa(new IntermediatePhysicalAddress(ipa + 0x1F_0000)));
        p0.Dsb(DsbOption.Nsh);
        p0.Tlbi(TlbiOp.Vae1, TlbiOperand.Va(BlockVa, 1, ttlLevel: 2));
        p0.Dsb(DsbOption.Nsh);
        p0.WriteDescriptor(s2slot, Descriptor.Stage2Leaf(pa2 + 0x1F_0000, page: true));
        p0.Dsb(DsbOption.Nsh);
        p0.ChangeExceptionLevel(1);
        w.Load(0, (BlockVa + 0x1F_0000).Value).Should().Be(pa2 + 0x1F_0000);
    }

    public static TheoryData<TlbiOp, ulong> GiantBlockInvalidations() => new()
    {
        { TlbiOp.Vae1Is, TlbiOperand.Va(GiantVa, 1, ttlLevel: 1) },
        { TlbiOp.Vale1Is, TlbiOperand.Va(GiantVa + 0x2000_0000, 1, ttlLevel: 1) },
        { TlbiOp.Rvale1Is, TlbiOperand.Range(GiantVa + 0x3000_0000, 0, 3, Granule.Size4K, false, 1, 1) },
    };

    [Theory]
    [MemberData(nameof(GiantBlockInvalidations))]
    public void BlockLargerThanTheLargestEntry_IsRemovedWhole(TlbiOp op, ulong operand)
    {
        var profile = CoreProfile.CortexA53;
        profile.Tlbs.MaxEntryShift.Should().Be(29, "the Cortex-A53 holds a 1 GiB block as 512 MiB entries");
        var w = new World(profile, stage2: false);
        const ulong pa = 0x1_4000_0000UL, pa2 = 0x1_8000_0000UL;
        w.S1.Map(GiantVa, new PhysicalAddress(pa), 1, Descriptor.Stage1Leaf(0, page: false, attrIndx: 1));
        ulong[] offsets = [0x100, 0x2000_0100];
        foreach (ulong off in offsets)
        {
            w.Mark(pa + off);
            w.Mark(pa2 + off);
            for (int pe = 0; pe < 2; pe++) w.Load(pe, (GiantVa + off).Value).Should().Be(pa + off);
        }
        w.ReplaceBlock(GiantVa.Value, 1, pa2, op, operand);
        foreach (ulong off in offsets)
            for (int pe = 0; pe < 2; pe++) w.Load(pe, (GiantVa + off).Value).Should().Be(pa2 + off, $"{op}: PE{pe} at block + 0x{off:x}");
    }

    [Fact]
    public void Stage2BlockLargerThanTheLargestEntry_IsRemovedWholeByIpas2OfOnePart()
    {
        // The KVM sequence on one part of a 1 GiB stage-2 block: IPAS2E1IS, DSB ISH, VMALLE1IS, DSB ISH. The IPA cache
        // holds the block as two 512 MiB pieces; both must go, or a walk for the other part uses the old output.
        var w = new World(CoreProfile.CortexA53, stage2: true);
        const ulong ipa = 0xC000_0000UL, pa = 0x1_C000_0000UL, pa2 = 0x2_0000_0000UL;
        w.S2!.Map(new IntermediatePhysicalAddress(ipa), new PhysicalAddress(pa), 1, Descriptor.Stage2Leaf(0, page: false));
        w.S1.Map(PageVa, new PhysicalAddress(ipa + 0x100_0000), 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
        w.S1.Map(PageVa + 0x1000, new PhysicalAddress(ipa + 0x3000_0000), 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
        foreach (ulong off in new[] { 0x100_0000UL, 0x3000_0000UL })
        {
            w.Mark(pa + off);
            w.Mark(pa2 + off);
        }
        for (int pe = 0; pe < 2; pe++)
        {
            w.Load(pe, PageVa.Value).Should().Be(pa + 0x100_0000);
            w.Load(pe, (PageVa + 0x1000).Value).Should().Be(pa + 0x3000_0000);
        }
        w.M[0].Tlbs.Entries(TlbStructure.IpaCache).Where(t => t.Leaf && t.InputBase >= ipa).Should().HaveCount(2).And.OnlyContain(t => t.SizeShift == 29 && t.DescriptorSizeShift == 30);

        var p0 = w.M[0];
        p0.ChangeExceptionLevel(2);
        var slot = w.S2.SlotFor(new IntermediatePhysicalAddress(ipa), 1, allocate: false);
        p0.WriteDescriptor(slot, 0);
        p0.Dsb(DsbOption.Ishst);
        p0.Tlbi(TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(new IntermediatePhysicalAddress(ipa + 0x3000_0000), ttlLevel: 1));
        p0.Dsb(DsbOption.Ish);
        p0.Tlbi(TlbiOp.Vmalle1Is);
        p0.Dsb(DsbOption.Ish);
        p0.WriteDescriptor(slot, Descriptor.Stage2Leaf(pa2, page: false));
        p0.Dsb(DsbOption.Ish);
        p0.ChangeExceptionLevel(1);
        for (int pe = 0; pe < 2; pe++)
        {
            w.Load(pe, PageVa.Value).Should().Be(pa2 + 0x100_0000, $"PE{pe}: the other piece of the stage-2 block is gone too");
            w.Load(pe, (PageVa + 0x1000).Value).Should().Be(pa2 + 0x3000_0000);
        }
    }

    [Fact]
    public void ATlbiOutsideTheBlock_LeavesThePieces()
    {
        // The rule widens maintenance to the block and no further: a VA in the next 2 MiB leaves the pieces (stale).
        var w = new World(CoreProfile.NeoverseN1, stage2: true);
        const ulong ipa = 0x8020_0000UL, ipa2 = 0x8060_0000UL, pa = 0x1_0020_0000UL, pa2 = 0x1_0060_0000UL;
        w.S1.Map(BlockVa, new PhysicalAddress(ipa), 2, Descriptor.Stage1Leaf(0, page: false, attrIndx: 1));
        for (ulong off = 0; off < 0x20_0000; off += 0x1000)
        {
            w.S2!.Map(new IntermediatePhysicalAddress(ipa + off), new PhysicalAddress(pa + off), 3, Descriptor.Stage2Leaf(0, page: true));
            w.S2.Map(new IntermediatePhysicalAddress(ipa2 + off), new PhysicalAddress(pa2 + off), 3, Descriptor.Stage2Leaf(0, page: true));
        }
        w.Mark(pa + 0x5000);
        w.Load(0, (BlockVa + 0x5000).Value).Should().Be(pa + 0x5000);
        var p0 = w.M[0];
        var slot = w.S1.SlotFor(BlockVa, 2, allocate: false);
        p0.WriteDescriptor(slot, 0);
        p0.Dsb(DsbOption.Ishst);
        p0.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(BlockVa + 0x20_0000, 1, ttlLevel: 2));
        p0.Dsb(DsbOption.Ish);
        p0.WriteDescriptor(slot, Descriptor.Stage1Leaf(ipa2, page: false, attrIndx: 1));
        w.Load(0, (BlockVa + 0x5000).Value).Should().Be(pa + 0x5000, "the stale piece is still used");
    }
}
