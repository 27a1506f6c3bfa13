using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Machine;

internal sealed class RecordingObserver : IMachineObserver
{
    public List<string> Events { get; } = new();
    public List<int[]> TlbiTargets { get; } = new();
    public List<(int Pe, VirtualAddress Va, bool FromTlb, ulong Descriptor)> Used { get; } = new();
    public List<(TlbEntryTag First, TlbEntryTag Second)> Conflicts { get; } = new();

    public void OnSystemRegisterWrite(int pe, SystemRegister register, ulong value) => Events.Add($"{pe} MSR {SystemRegisters.ArmName(register)}");
    public void OnExceptionLevelChange(int pe, int exceptionLevel) => Events.Add($"{pe} EL{exceptionLevel}");
    public void OnTlbi(int pe, in TlbiScope scope, ReadOnlySpan<int> targets)
    {
        Events.Add($"{pe} TLBI {scope.Info.Name}");
        TlbiTargets.Add(targets.ToArray());
    }
    public void OnDsb(int pe, DsbOption option) => Events.Add($"{pe} {option}");
    public void OnIsb(int pe) => Events.Add($"{pe} ISB");
    public void OnTranslationUsed(int pe, VirtualAddress va, in WalkResult result, bool fromTlb) => Used.Add((pe, va, fromTlb, result.Descriptor));
    public void OnTlbConflict(int pe, VirtualAddress va, in TlbEntryTag first, in TlbEntryTag second)
    {
        Events.Add($"{pe} conflict 0x{va:x}");
        Conflicts.Add((first, second));
    }
}

public class ObserverAndConflictTests
{
    [Fact]
    public void Observer_SeesInstructionsInProgramOrder_WithTheTargetsOfEachTlbi()
    {
        var rig = new Rig(pes: 3);
        var obs = new RecordingObserver();
        rig.M.Attach(obs);
        rig[1].Msr(Sysreg.TcrEl1, new Tcr(rig[1].RegisterValue(SystemRegister.TcrEl1)));
        rig[1].Isb();
        rig[1].Tlbi(TlbiOp.Vale1Is, TlbiOperand.Va(Rig.Va));
        rig[1].Tlbi(TlbiOp.Vale1, TlbiOperand.Va(Rig.Va));
        rig[1].Dsb(DsbOption.Ish);
        rig[1].ChangeExceptionLevel(0);
        obs.Events.Should().Equal("1 MSR TCR_EL1", "1 ISB", "1 TLBI VALE1IS", "1 TLBI VALE1", "1 DSB ISH", "1 EL0");
        obs.TlbiTargets[0].Should().Equal(0, 1, 2);
        obs.TlbiTargets[1].Should().Equal(1);
    }

    [Fact]
    public void Observer_IsToldWhetherATranslationCameFromTheTlb_AndWhichDescriptorItHolds()
    {
        var rig = new Rig(pes: 1);
        var obs = new RecordingObserver();
        rig.M.Attach(obs);
        ulong original = rig.M.Memory.ReadUInt64(rig.Pte(Rig.Va));
        rig.Marker(0, Rig.Va);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        rig.Marker(0, Rig.Va);
        obs.Used.Should().Equal((0, Rig.Va, false, original), (0, Rig.Va, true, original));
        rig.M.Detach(obs);
        rig.Marker(0, Rig.Va);
        obs.Used.Should().HaveCount(2);
    }

    // A 4 KiB page is replaced by a 2 MiB block without break-before-make. A switch of ASID makes the next walk miss the
    // walk cache (its entries carry the old ASID) while the global 4 KiB leaf still matches, so both end up in the TLB.
    private static (Rig Rig, ulong BlockPa) BlockOverPageWithoutBreak(ProcessorFeatures? features = null)
    {
        var rig = new Rig(pes: 1, features: features);
        var blockPa = new PhysicalAddress(0x2_0000_0000UL);
        rig.M.Memory.WriteUInt64(blockPa + 0x1000, (blockPa + 0x1000).Value);
        rig.M.Memory.WriteUInt64(blockPa, blockPa.Value);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig[0].WriteDescriptor(rig.Slot(Rig.Va, 2), Descriptor.Stage1Leaf(blockPa.Value, page: false, attrIndx: 1));
        rig[0].Msr(Sysreg.Ttbr0El1, Ttbr.Create(rig.Map.Tables.Root, asid: 2));
        rig[0].Isb();
        rig.Marker(0, Rig.Va + 0x1000).Should().Be(blockPa + 0x1000, "the walk read the new block");
        return (rig, blockPa.Value);
    }

    [Fact]
    public void TwoEntriesForOneAddress_AreATlbConflictAbort()
    {
        var (rig, _) = BlockOverPageWithoutBreak(CoreProfile.NeoverseN1.Features);
        var obs = new RecordingObserver();
        rig.M.Attach(obs);
        var r = rig[0].Load(Rig.Va, 8);
        r.Fault.Kind.Should().Be(FaultKind.TlbConflict);
        r.Fault.StatusCode.Should().Be(0x30);
        obs.Conflicts.Should().ContainSingle();
        var sizes = new[] { obs.Conflicts[0].First.SizeShift, obs.Conflicts[0].Second.SizeShift };
        sizes.Should().BeEquivalentTo(new byte[] { 12, 21 });
        rig[0].Statistics.TlbConflicts.Should().Be(1);
    }

    [Fact]
    public void WithBbmLevel2_TheConflictIsResolvedByThePe()
    {
        var (rig, blockPa) = BlockOverPageWithoutBreak(CoreProfile.NeoverseV2.Features);
        rig.Marker(0, Rig.Va).Should().Be(new PhysicalAddress(blockPa));
    }
}
