using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Tests.Machine;

public class AccessTests
{
    [Fact]
    public void StoreAcrossAPage_IsTwoStores_EachThroughItsOwnTranslation()
    {
        var rig = new Rig(pes: 1);
        var second = Rig.Va + 0x1000;
        rig.Repoint(second, Rig.OtherPa + 0x5000);
        var writes = new List<(PhysicalAddress Address, WriteOrigin Origin, int Writer)>();
        rig.M.Memory.Attach(new MemoryRecorder(writes));
        var r = rig[0].Store(new VirtualAddress((second - 4).Value), 8, 0x1122_3344_5566_7788UL);
        r.Succeeded.Should().BeTrue();
        r.Parts.Should().Be(2);
        (rig.M.Memory.ReadUInt64(Rig.Pa + 0xFF8) >> 32).Should().Be(0x5566_7788UL);
        (rig.M.Memory.ReadUInt64(Rig.OtherPa + 0x5000) & 0xFFFF_FFFF).Should().Be(0x1122_3344UL);
        writes.Should().Equal((Rig.Pa + 0xFF8, WriteOrigin.Software, 0), (Rig.OtherPa + 0x5000, WriteOrigin.Software, 0));
        var back = rig[0].Load(new VirtualAddress((second - 4).Value), 8);
        back.Value.Should().Be(0x1122_3344_5566_7788UL);
        back.Parts.Should().Be(2);
    }

    [Fact]
    public void StoreAcrossAPage_WhoseSecondPageFaults_WritesNothing()
    {
        var rig = new Rig(pes: 1);
        var end = Rig.Va + Rig.Pages * 0x1000UL; // the next page is not mapped
        ulong before = rig.M.Memory.ReadUInt64(Rig.Pa + (Rig.Pages - 1) * 0x1000UL + 0xFF8);
        var r = rig[0].Store(new VirtualAddress((end - 4).Value), 8, ulong.MaxValue);
        r.Fault.Kind.Should().Be(FaultKind.Translation);
        r.Fault.Level.Should().Be(3);
        r.FaultAddress.Should().Be(end);
        rig.M.Memory.ReadUInt64(Rig.Pa + (Rig.Pages - 1) * 0x1000UL + 0xFF8).Should().Be(before);
    }

    [Fact]
    public void ByteStore_ChangesOnlyThatByte()
    {
        var rig = new Rig(pes: 1);
        var r = rig[0].Store(Rig.Va + 0x107, 1, 0xAB);
        r.Succeeded.Should().BeTrue();
        rig.M.Memory.ReadUInt64(Rig.Pa + 0x100).Should().Be(0xAB00_0000_0000_0000UL);
        rig[0].Load(Rig.Va + 0x107, 1).Value.Should().Be(0xABUL);
    }

    [Fact]
    public void SpanStore_WritesPartByPart_AndStopsAtTheFaultingPage()
    {
        var rig = new Rig(pes: 1);
        var end = Rig.Va + Rig.Pages * 0x1000UL;
        var data = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var r = rig[0].Store(new VirtualAddress((end - 16).Value), data);
        r.Fault.Kind.Should().Be(FaultKind.Translation);
        r.Parts.Should().Be(2);
        var first = new byte[16];
        rig.M.Memory.Read(Rig.Pa + (Rig.Pages - 1) * 0x1000UL + 0xFF0, first);
        first.Should().Equal(data.Take(16));
        var back = new byte[16];
        rig[0].Load(new VirtualAddress((end - 16).Value), back).Succeeded.Should().BeTrue();
        back.Should().Equal(data.Take(16));
    }

    [Fact]
    public void HardwareAccessFlag_IsSetByAnAtomicUpdateTheObserverSeesAsHardware()
    {
        var rig = new Rig(pes: 2, profile: Arm64Mmu.Timing.CoreProfile.NeoverseN1);
        rig[1].Msr(Sysreg.TcrEl1, new Tcr(rig[1].RegisterValue(Arm64Mmu.Translation.SystemRegister.TcrEl1)).WithHaHd(true, false));
        rig[1].Isb();
        var pte = rig.Pte(Rig.Va);
        rig.M.Memory.WriteUInt64(pte, rig.Page(Rig.Pa) & ~Descriptor.Af);
        var writes = new List<(PhysicalAddress Address, WriteOrigin Origin, int Writer)>();
        rig.M.Memory.Attach(new MemoryRecorder(writes));
        rig[0].Load(Rig.Va, 8).Fault.Kind.Should().Be(FaultKind.AccessFlag, "PE 0 has TCR_EL1.HA=0");
        rig[1].Load(Rig.Va, 8).Value.Should().Be(Rig.Pa.Value);
        rig.M.Memory.ReadUInt64(pte).Should().Be(rig.Page(Rig.Pa));
        writes.Should().Equal((pte, WriteOrigin.HardwareUpdate, 1));
        rig[1].Statistics.HardwareUpdates.Should().Be(1);
    }

    [Fact]
    public void HardwareDirtyState_ClearsApTwoOnTheFirstWrite_EvenAfterAReadCachedTheCleanEntry()
    {
        var rig = new Rig(pes: 1);
        rig[0].Msr(Sysreg.TcrEl1, new Tcr(rig[0].RegisterValue(Arm64Mmu.Translation.SystemRegister.TcrEl1)).WithHaHd(true, true));
        rig[0].Isb();
        var pte = rig.Pte(Rig.Va);
        ulong clean = rig.Page(Rig.Pa, readOnly: true) | Descriptor.Dbm;
        rig.M.Memory.WriteUInt64(pte, clean);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig.M.Memory.ReadUInt64(pte).Should().Be(clean, "a read leaves a writable-clean page clean");
        var writes = new List<(PhysicalAddress Address, WriteOrigin Origin, int Writer)>();
        rig.M.Memory.Attach(new MemoryRecorder(writes));
        rig[0].Store(Rig.Va + 8, 8, 42).Succeeded.Should().BeTrue();
        rig.M.Memory.ReadUInt64(pte).Should().Be(clean & ~Descriptor.Ap2);
        writes.Should().Equal((pte, WriteOrigin.HardwareUpdate, 0), (Rig.Pa + 8, WriteOrigin.Software, 0));
        rig[0].Store(Rig.Va + 16, 8, 43).Succeeded.Should().BeTrue();
        rig[0].Statistics.HardwareUpdates.Should().Be(1, "the entry is dirty after the first write");
    }

    [Fact]
    public void AtWrite_OnAWritableCleanPage_ReportsWritable_WithoutMakingItDirty()
    {
        var rig = new Rig(pes: 1);
        rig[0].Msr(Sysreg.TcrEl1, new Tcr(rig[0].RegisterValue(Arm64Mmu.Translation.SystemRegister.TcrEl1)).WithHaHd(true, true));
        rig[0].Isb();
        var pte = rig.Pte(Rig.Va);
        ulong clean = rig.Page(Rig.Pa, readOnly: true) | Descriptor.Dbm;
        rig.M.Memory.WriteUInt64(pte, clean);
        rig.Marker(0, Rig.Va);
        rig[0].At(Arm64Mmu.Translation.AtOperation.S1E1W, Rig.Va).Par.Faulted.Should().BeFalse();
        rig.M.Memory.ReadUInt64(pte).Should().Be(clean, "AT performs no hardware update");
        rig[0].Store(Rig.Va, 8, 1).Succeeded.Should().BeTrue();
        rig.M.Memory.ReadUInt64(pte).Should().Be(clean & ~Descriptor.Ap2);
        rig[0].Statistics.TlbConflicts.Should().Be(0);
    }

    [Fact]
    public void DbmWithoutHardwareDirtyState_IsAPermissionFaultOnWrite()
    {
        var rig = new Rig(pes: 1);
        rig.M.Memory.WriteUInt64(rig.Pte(Rig.Va), rig.Page(Rig.Pa, readOnly: true) | Descriptor.Dbm);
        var r = rig[0].Store(Rig.Va, 8, 1);
        r.Fault.Kind.Should().Be(FaultKind.Permission);
        r.Fault.Level.Should().Be(3);
    }

    [Fact]
    public void PermissionFault_FromACachedEntry_IsTheWalksFault()
    {
        var rig = new Rig(pes: 1);
        rig.M.Memory.WriteUInt64(rig.Pte(Rig.Va), rig.Page(Rig.Pa, readOnly: true));
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        var r = rig[0].Store(Rig.Va, 8, 1);
        r.Fault.Should().Be(new Fault(FaultKind.Permission, 3, 1, false, 0));
        rig[0].Statistics.L1DataMisses.Should().Be(1);
        rig[0].Statistics.L1DataHits.Should().Be(1, "the write was checked against the read-only entry the read cached");
        rig[0].Statistics.Walks.Should().Be(1);
    }

    [Fact]
    public void El0Access_ToAPrivilegedPage_Faults_AndPanFaultsPrivilegedAccessToUserPages()
    {
        var rig = new Rig(pes: 1);
        rig.M.Memory.WriteUInt64(rig.Pte(Rig.Va + 0x1000), Descriptor.Stage1Leaf((Rig.Pa + 0x1000).Value, page: true, attrIndx: 1, el0: true));
        rig[0].ChangeExceptionLevel(0);
        rig[0].Load(Rig.Va, 8).Fault.Kind.Should().Be(FaultKind.Permission);
        rig[0].Load(Rig.Va + 0x1000, 8).Succeeded.Should().BeTrue();
        rig[0].ChangeExceptionLevel(1);
        rig[0].Pan = true;
        rig[0].Load(Rig.Va + 0x1000, 8).Fault.Kind.Should().Be(FaultKind.Permission, "PSTATE.PAN denies EL1 data access to EL0-readable memory");
        rig[0].Fetch(Rig.Va + 0x1000).Fault.Kind.Should().Be(FaultKind.Permission, "EL0-writable memory is never privileged-executable");
    }

    [Fact]
    public void MsrWithoutIsb_DoesNotReachTranslation_UnlessBuiltImmediate()
    {
        var rig = new Rig(pes: 1);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        rig[0].Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn).WithM(false));
        rig[0].Mrs(Sysreg.SctlrEl1, out var sctlr).Should().Be(InstructionStatus.Executed);
        sctlr.M.Should().BeFalse("MRS reads the written value");
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "an MSR reaches translation only after a context synchronization event");
        rig[0].Isb();
        rig[0].Load(Rig.Va, 8).PhysicalAddress.Value.Should().Be(Rig.Va.Value, "stage 1 is off: flat mapping");

        var now = new Rig(pes: 1, configure: b => b.WithRegisterSynchronization(RegisterSynchronization.Immediate));
        now[0].Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn).WithM(false));
        now[0].Load(Rig.Va, 8).PhysicalAddress.Value.Should().Be(Rig.Va.Value);
    }

    [Fact]
    public void Msr_ToEl2Registers_IsUndefinedAtEl1_AndEverythingAtEl0()
    {
        var rig = new Rig(pes: 1);
        rig[0].Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw)).Should().Be(InstructionStatus.Undefined);
        rig[0].Mrs(Sysreg.VttbrEl2, out _).Should().Be(InstructionStatus.Undefined);
        rig[0].Msr(Sysreg.TcrEl1, new Tcr(0)).Should().Be(InstructionStatus.Executed);
        rig[0].ChangeExceptionLevel(0);
        rig[0].Msr(Sysreg.TcrEl1, new Tcr(0)).Should().Be(InstructionStatus.Undefined);
        rig[0].At(Arm64Mmu.Translation.AtOperation.S1E1R, Rig.Va).Status.Should().Be(InstructionStatus.Undefined);
    }

    [Fact]
    public void El2HostRegime_IsInvalidatedByEl1OperationsWhenE2hAndTgeAreSet()
    {
        var rig = new Rig(pes: 1);
        var pe = rig[0];
        pe.ChangeExceptionLevel(2);
        pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithE2hTge(true, true));
        pe.Msr(Sysreg.TcrEl2E2h, new Tcr(pe.RegisterValue(Arm64Mmu.Translation.SystemRegister.TcrEl1)));
        pe.Msr(Sysreg.MairEl2, MachineSetups.DefaultMair);
        pe.Msr(Sysreg.Ttbr0El2, Ttbr.Create(rig.Map.Tables.Root, asid: 3));
        pe.Msr(Sysreg.SctlrEl2, new Sctlr(MachineSetups.SctlrMmuOn));
        pe.Isb();
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa);
        pe.Tlbs.Entries(TlbStructure.L2).Should().ContainSingle().Which.Regime.Should().Be(Regime.El20);
        rig.Repoint(Rig.Va, Rig.OtherPa);
        pe.Tlbi(TlbiOp.Vmalls12e1);
        pe.Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.Pa, "VMALLS12E1 addresses EL1&0, not EL2&0");
        pe.Tlbi(TlbiOp.Vae1, TlbiOperand.Va(Rig.Va, asid: 3));
        pe.Dsb(DsbOption.Nsh);
        rig.Marker(0, Rig.Va).Should().Be(Rig.OtherPa, "with HCR_EL2.{E2H,TGE}={1,1} TLBI VAE1 addresses EL2&0");
    }

    [Fact]
    public void PesWithDifferentFeatures_TranslateTheSameRegistersDifferently()
    {
        // TCR_EL1.DS=1 with a 52-bit VA: a PE without FEAT_LPA2 treats DS as 0, so T0SZ=12 is out of range (level-0 fault).
        var m = new MachineBuilder().WithProcessingElements(2).WithFeatures(0, ProcessorFeatures.QemuMax).WithFeatures(1, ProcessorFeatures.Armv80).Build();
        var geo = Geometries.Stage1(Granule.Size4K, 52, 52, ds: true);
        var tables = new Arm64Mmu.PageTables.TableBuilder(new Arm64Mmu.PageTables.TableAllocator(m.Memory, new PhysicalAddress(0x4000_0000), 0x10_0000), geo);
        const ulong va = 0x000F_1234_5678_9000UL, pa = 0x8000_0000UL;
        tables.Map(new VirtualAddress(va), new PhysicalAddress(pa), 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1, format: geo.Format));
        foreach (var pe in m.ProcessingElements)
        {
            pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
            pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(12).WithTg0(Granule.Size4K).WithIps(52).WithDs(true).WithEpd(false, true).WithWalkAttributesInnerWb());
            pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(tables.Root));
            pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
            pe.Isb();
        }
        m[0].Translate(new VirtualAddress(va), AccessKind.Read).PhysicalAddress.Should().Be(new PhysicalAddress(pa));
        m[1].Translate(new VirtualAddress(va), AccessKind.Read).Fault.Should().Be(new Fault(FaultKind.Translation, 0, 1, false, 0));
    }
}
