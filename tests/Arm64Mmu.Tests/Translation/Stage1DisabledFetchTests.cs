using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Translation;

/// <summary>AArch64.S1DisabledOutput: with stage 1 off, fetches are Normal Write-Through read-allocate when SCTLR.I=1, Non-cacheable when 0; data is Device-nGnRnE.</summary>
public class Stage1DisabledFetchTests
{
    [Theory]
    [InlineData(true, AccessKind.Execute, 0xAA)]
    [InlineData(false, AccessKind.Execute, 0x44)]
    [InlineData(true, AccessKind.Read, 0x00)]
    public void MmuOff_AttributesFollowSctlrI(bool i, AccessKind kind, int expected)
    {
        var t = new AddressTranslator(new PhysicalMemory(), ProcessorFeatures.QemuMax);
        t.Registers.SctlrEl1 = new Sctlr(i ? 1UL << 12 : 0);
        WalkResult r = default;
        t.Walker.Translate(t.El10, Stage2Regime.Disabled, new VirtualAddress(0x1234_5678), new AccessRequest(kind, false), false, ref r);
        r.Succeeded.Should().BeTrue();
        r.OutputAddress.Should().Be(0x1234_5678UL);
        r.Attributes.Should().Be((byte)expected);
        r.Shareability.Should().Be(Shareability.Outer);
    }
}
