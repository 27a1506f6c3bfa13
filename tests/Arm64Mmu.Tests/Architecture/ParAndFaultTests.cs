using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Architecture;

/// <summary>PAR_EL1 64-bit format and long-descriptor fault status codes (Arm ARM D17 PAR_EL1, ESR_ELx.DFSC; translation.md §6–7).</summary>
public class ParAndFaultTests
{
    [Fact]
    public void SuccessParHoldsAttrPaRes1AndSh()
    {
        // ATTR[63:56] = 0xFF, PA[51:12], bit 11 RES1, SH[8:7] = 0b11, F = 0.
        Par.Success(0x0000_1234_5678_9ABCUL, 0xFF, Shareability.Inner).Value.Should().Be(0xFF00_1234_5678_9980UL);
    }

    [Fact]
    public void SuccessParCarriesPaBits51To48()
    {
        Par.Success(0x000F_1234_5678_9000UL, 0x44, Shareability.Outer).Value.Should().Be(0x440F_1234_5678_9900UL);
    }

    [Theory]
    // FST = 0b0001LL translation, 0b0000LL address size, 0b0010LL access flag, 0b0011LL permission.
    [InlineData(FaultKind.Translation, 0, 0x04)]
    [InlineData(FaultKind.Translation, 3, 0x07)]
    [InlineData(FaultKind.AddressSize, 0, 0x00)]
    [InlineData(FaultKind.AddressSize, 2, 0x02)]
    [InlineData(FaultKind.AccessFlag, 1, 0x09)]
    [InlineData(FaultKind.AccessFlag, 3, 0x0B)]
    [InlineData(FaultKind.Permission, 0, 0x0C)]
    [InlineData(FaultKind.Permission, 3, 0x0F)]
    [InlineData(FaultKind.Translation, -1, 0x2B)] // FEAT_LPA2 level -1
    [InlineData(FaultKind.AddressSize, -1, 0x29)]
    [InlineData(FaultKind.TlbConflict, 0, 0x30)]
    public void FaultStatusCodes(FaultKind kind, int level, int fst)
    {
        var f = new Fault(kind, (sbyte)level, 1, false, 0);
        f.StatusCode.Should().Be(fst);
        var par = Par.FromFault(f);
        par.Value.Should().Be(0x800UL | (ulong)fst << 1 | 1);
        par.FaultStatus.Should().Be(fst);
        Fault.DecodeStatusCode(fst).Should().Be((kind, kind == FaultKind.TlbConflict ? 0 : level));
    }

    [Fact]
    public void Stage2FaultOnAStage1WalkSetsSAndPtw()
    {
        // Stage-2 translation fault at level 3 during a stage-1 walk: FST 0x07, PTW bit 8, S bit 9.
        var par = Par.FromFault(new Fault(FaultKind.Translation, 3, 2, true, 0x4000_0000));
        par.Value.Should().Be(0x800UL | 1UL << 9 | 1UL << 8 | 0x07 << 1 | 1);
        (par.Faulted, par.Stage2, par.Ptw, par.FaultStatus).Should().Be((true, true, true, 0x07));
    }

    [Fact]
    public void Stage2FaultOnTheFinalIpaSetsSOnly()
    {
        var par = Par.FromFault(new Fault(FaultKind.Permission, 2, 2, false, 0x4000_0000));
        par.Value.Should().Be(0x800UL | 1UL << 9 | 0x0E << 1 | 1);
        (par.Stage2, par.Ptw).Should().Be((true, false));
    }

    [Fact]
    public void ParDecodersReadTheirFields()
    {
        var p = new Par(0xBB0F_0000_1234_5B00UL);
        (p.Faulted, p.Attributes, p.PhysicalAddress, p.Shareability).Should().Be((false, (byte)0xBB, 0x000F_0000_1234_5000UL, Shareability.Outer));
        p.ToString().Should().Contain("PA 0xf000012345000").And.Contain("ATTR 0xbb");
        new Par(0x857).ToString().Should().Contain("translation fault, level -1");
    }

    [Fact]
    public void UnknownStatusCodesDecodeToNothing()
    {
        Fault.DecodeStatusCode(0x21).Should().BeNull(); // alignment: not produced by this model
        Fault.DecodeStatusCode(0x3F).Should().BeNull();
    }

    [Fact]
    public void FaultToStringNamesKindLevelStageAndS1Ptw()
    {
        new Fault(FaultKind.AccessFlag, 2, 2, true, 0).ToString().Should().Be("stage-2 access flag fault, level 2 (on a stage-1 table walk, S1PTW)");
        Fault.None.IsFault.Should().BeFalse();
    }
}
