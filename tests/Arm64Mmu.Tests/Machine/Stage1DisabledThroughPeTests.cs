using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Timing;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// AArch64.S1DisabledOutput through a PE's MMU (the TLB path), which must answer as the architectural walker does:
/// HCR_EL2.DC=1 makes stage-1-off data accesses Normal Write-Back Non-shareable; otherwise Device-nGnRnE, Outer Shareable.
/// </summary>
public class Stage1DisabledThroughPeTests
{
    [Theory]
    [InlineData(false, 0x00, Shareability.Outer)]
    [InlineData(true, 0xFF, Shareability.NonShareable)]
    public void AtWithStage1Off_GivesTheArchitecturalAttributes(bool dc, int attr, Shareability sh)
    {
        var m = new MachineBuilder().WithProcessingElements(1).WithProfile(CoreProfile.NeoverseN1).WithInitialExceptionLevel(2).Build();
        var pe = m[0];
        // HCR_EL2.DC=1 also forces stage 2 on: give it a 4K, 40-bit IPA table that maps the page (start level 1, 2 tables).
        var alloc = new Arm64Mmu.PageTables.TableAllocator(m.Memory, new PhysicalAddress(0x4000_0000UL), 0x10_0000UL);
        var s2 = new Arm64Mmu.PageTables.TableBuilder(alloc, Geometries.Stage2(Granule.Size4K, 40, 1));
        s2.Map(new IntermediatePhysicalAddress(0x8000_0000UL), new PhysicalAddress(0x8000_0000UL), 3, Descriptor.Stage2Leaf(0, page: true));
        pe.Msr(Sysreg.VtcrEl2, new Vtcr(0).WithT0sz(24).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 1)).WithTg0(Granule.Size4K).WithPs(48).WithWalkAttributesInnerWb());
        pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(s2.Root, vmid: 1));
        var hcr = new Hcr(Hcr.Rw);
        if (dc) hcr = new Hcr(hcr.Value | 1UL << 12);
        pe.Msr(Sysreg.HcrEl2, hcr);
        pe.Isb();
        var par = pe.At(AtOperation.S1E1R, new VirtualAddress(0x8000_0123UL)).Par;
        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(0x8000_0000UL);
        ((int)par.Attributes, par.Shareability).Should().Be((attr, sh));
        pe.Translator.At(AtOperation.S1E1R, new VirtualAddress(0x8000_0123UL)).Should().Be(par, "the PE's MMU and the architectural walker agree");
    }
}
