using System.Globalization;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Tests.Conformance;
using Arm64Mmu.Tests.Translation;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Memory;

/// <summary>
/// The three address types: what they compute (checked against the ulong arithmetic they stand for), how they print,
/// and — compiled with Roslyn — that mixing address kinds, or passing a bare number, does not compile.
/// </summary>
public class AddressTypeTests
{
    [Fact]
    public void Arithmetic_IsUlongArithmeticModulo2To64()
    {
        var va = new VirtualAddress(0x0000_0040_0000_1000UL);
        (va + 0x20).Value.Should().Be(0x0000_0040_0000_1020UL);
        (va - 0x1001).Value.Should().Be(0x0000_003F_FFFF_FFFFUL);
        (new VirtualAddress(ulong.MaxValue) + 1).Should().Be(new VirtualAddress(0), "wraps as ulong does");
        (new PhysicalAddress(0) - 1).Value.Should().Be(ulong.MaxValue);
        (new PhysicalAddress(0x9000) - new PhysicalAddress(0x8000)).Should().Be(0x1000UL, "the distance between two addresses is a byte count");
        (new IntermediatePhysicalAddress(0x2000_1000) - new IntermediatePhysicalAddress(0x2000_0000)).Should().Be(0x1000UL);
    }

    [Fact]
    public void Comparison_EqualityAndHashing_FollowTheValue()
    {
        var a = new PhysicalAddress(0x8000_0000);
        var b = new PhysicalAddress(0x8000_1000);
        var a2 = new PhysicalAddress(0x8000_0000);
        (a < b, a <= b, b > a, b >= a, a >= a2, a > a2, a < a2, a <= a2).Should().Be((true, true, true, true, true, false, false, true));
        a.CompareTo(b).Should().BeNegative();
        b.CompareTo(a).Should().BePositive();
        (a == new PhysicalAddress(0x8000_0000)).Should().BeTrue();
        (a != b).Should().BeTrue();
        a.GetHashCode().Should().Be(new PhysicalAddress(0x8000_0000).GetHashCode());
        new[] { b, a, new PhysicalAddress(1) }.Order().Select(p => p.Value).Should().Equal(1UL, 0x8000_0000UL, 0x8000_1000UL);
        // The top bit set: comparison is unsigned, as for addresses in the TTBR1 half.
        (new VirtualAddress(0xFFFF_0000_0000_0000UL) > new VirtualAddress(0x0000_FFFF_FFFF_F000UL)).Should().BeTrue();
    }

    [Fact]
    public void Conversions_AreExplicitBothWays()
    {
        var va = (VirtualAddress)0x1234UL;
        ((ulong)va).Should().Be(0x1234UL);
        va.Value.Should().Be(0x1234UL);
        ((ulong)(IntermediatePhysicalAddress)7UL).Should().Be(7UL);
        ((PhysicalAddress)0x5000UL).Should().Be(new PhysicalAddress(0x5000));
        default(PhysicalAddress).Value.Should().Be(0UL);
    }

    [Theory]
    [InlineData(0x4000_1234UL, 0x1000UL, 0x4000_1000UL, 0x4000_2000UL, false)]
    [InlineData(0x4000_0000UL, 0x20_0000UL, 0x4000_0000UL, 0x4000_0000UL, true)]
    [InlineData(0xFFFF_FFFF_FFFF_F001UL, 0x1000UL, 0xFFFF_FFFF_FFFF_F000UL, 0UL, false)]   // aligns up past 2^64 to 0
    [InlineData(0x7UL, 1UL, 0x7UL, 0x7UL, true)]
    public void Alignment_RoundsToPowersOfTwo(ulong value, ulong alignment, ulong down, ulong up, bool aligned)
    {
        var pa = new PhysicalAddress(value);
        pa.AlignDown(alignment).Value.Should().Be(down);
        pa.AlignUp(alignment).Value.Should().Be(up);
        pa.IsAligned(alignment).Should().Be(aligned);
        new VirtualAddress(value).AlignDown(alignment).Value.Should().Be(down);
        new IntermediatePhysicalAddress(value).AlignUp(alignment).Value.Should().Be(up);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(3UL)]
    [InlineData(0x1800UL)]
    public void Alignment_ThatIsNotAPowerOfTwo_Throws(ulong alignment)
    {
        var pa = new PhysicalAddress(0x4000);
        pa.Invoking(p => p.AlignDown(alignment)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*power of two*");
        pa.Invoking(p => p.AlignUp(alignment)).Should().Throw<ArgumentOutOfRangeException>();
        pa.Invoking(p => p.IsAligned(alignment)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Formatting_IsHexWithA0xPrefix_AndAFormatAppliesToTheValue()
    {
        new VirtualAddress(0x40001000).ToString().Should().Be("0x40001000");
        new PhysicalAddress(0).ToString().Should().Be("0x0");
        new IntermediatePhysicalAddress(0xFFFF_FFFF_FFFF_FFFFUL).ToString().Should().Be("0xffffffffffffffff");
        var pa = new PhysicalAddress(0xABC);
        $"{pa}".Should().Be("0xabc", "interpolation without a format prints as ToString()");
        $"{pa:x16}".Should().Be("0000000000000abc");
        $"{pa:X}".Should().Be("ABC");
        pa.ToString("d", CultureInfo.InvariantCulture).Should().Be("2748");
        Span<char> small = stackalloc char[8];
        pa.TryFormat(small, out int written, default, null).Should().BeTrue();
        small[..written].ToString().Should().Be("0xabc");
        pa.TryFormat(small[..4], out _, default, null).Should().BeFalse("\"0xabc\" needs five characters");
    }

    [Fact]
    public void AnAddressIsTheSizeOfAUlong()
    {
        System.Runtime.CompilerServices.Unsafe.SizeOf<VirtualAddress>().Should().Be(sizeof(ulong));
        System.Runtime.CompilerServices.Unsafe.SizeOf<IntermediatePhysicalAddress>().Should().Be(sizeof(ulong));
        System.Runtime.CompilerServices.Unsafe.SizeOf<PhysicalAddress>().Should().Be(sizeof(ulong));
    }

    // ---- the type system keeps the kinds apart --------------------------------------------------------------------

    private const string Usings = """
        using Arm64Mmu.Architecture;
        using Arm64Mmu.Machine;
        using Arm64Mmu.Memory;
        using Arm64Mmu.PageTables;
        using Arm64Mmu.Tlb;
        using Arm64Mmu.Translation;

        var machine = new MachineBuilder().WithProcessingElements(1).Build();
        var pe = machine[0];
        var va = new VirtualAddress(0x40_0000_0000);
        var ipa = new IntermediatePhysicalAddress(0x8000_0000);
        var pa = new PhysicalAddress(0x8000_0000);

        """;

    private static IReadOnlyList<Microsoft.CodeAnalysis.Diagnostic> Errors(string statement)
        => CSharpExample.Errors(Usings + statement + "\n", typeof(BreakBeforeMakeChecker).Assembly);

    [Fact]
    public void CorrectlyTypedCalls_Compile()
    {
        // The control: the harness compiles well-typed code, so the errors below come from the address kinds alone.
        Errors("""
            pe.Load(va, 8); pe.Store(va + 8, 8, 1); pe.Fetch(va); pe.At(AtOperation.S1E1R, va);
            machine.Memory.WriteUInt64(pa, 1); machine.Memory.ReadUInt64(pa + 8);
            ulong op = TlbiOperand.Va(va, asid: 1) | TlbiOperand.Ipa(ipa);
            PhysicalAddress result = pe.Load(va, 8).PhysicalAddress;
            bool before = pa < pa + 1;
            """).Should().BeEmpty();
    }

    [Theory]
    [InlineData("pe.Load(pa, 8);", "CS1503")]                                   // a PA where a VA is expected
    [InlineData("pe.Store(ipa, 8, 1);", "CS1503")]                              // an IPA where a VA is expected
    [InlineData("pe.At(AtOperation.S1E1R, ipa);", "CS1503")]
    [InlineData("machine.Memory.ReadUInt64(va);", "CS1503")]                    // a VA where a PA is expected
    [InlineData("machine.Memory.WriteUInt64(ipa, 0);", "CS1503")]               // an IPA where a PA is expected
    [InlineData("TlbiOperand.Ipa(va);", "CS1503")]
    [InlineData("TlbiOperand.Va(pa);", "CS1503")]
    [InlineData("pe.Load(0x4000_0000UL, 8);", "CS1503")]                        // a bare number is no address
    [InlineData("VirtualAddress v = 0x1000UL;", "CS0266")]                       // no implicit conversion from ulong
    [InlineData("ulong raw = pa;", "CS0266")]                                    // nor back to it
    [InlineData("PhysicalAddress p = va;", "CS0029")]                            // nor between kinds
    [InlineData("PhysicalAddress p = (PhysicalAddress)va;", "CS0030")]            // not even with a cast
    [InlineData("bool same = va == pa;", "CS0019")]                              // comparing different kinds
    [InlineData("bool lower = ipa < pa;", "CS0019")]
    [InlineData("var sum = pa + pa;", "CS0019")]                                 // an address plus an address means nothing
    [InlineData("ulong d = va - ipa;", "CS0019")]
    [InlineData("PhysicalAddress p = pe.Load(va, 8).FaultAddress;", "CS0029")]    // a fault address is a VA
    public void MixingAddressKinds_DoesNotCompile(string statement, string diagnostic)
    {
        var errors = Errors(statement);
        errors.Should().NotBeEmpty($"\"{statement}\" must not compile");
        errors.Select(e => e.Id).Should().Contain(diagnostic, $"\"{statement}\": {string.Join("; ", errors)}");
    }

    // ---- WalkResult: one member per address kind -------------------------------------------------------------------

    private static NestedRig Nested(out ulong va, out ulong ipa, out ulong pa)
    {
        var n = new NestedRig(Granule.Size4K, 48, Granule.Size4K, 40, 1);
        va = 0x1000; ipa = 0x10_0000; pa = 0x3000_0000UL;
        n.S1.Map(new VirtualAddress(va), new IntermediatePhysicalAddress(ipa), 3, n.S1Leaf(3));
        n.MapStage1Tables();
        n.S2.Map(new IntermediatePhysicalAddress(ipa), new PhysicalAddress(pa), 3, n.S2Leaf(3));
        return n;
    }

    [Fact]
    public void WalkResult_OfBothStages_HasTheVaTheIpaAndThePa()
    {
        var n = Nested(out ulong va, out ulong ipa, out ulong pa);
        var r = n.Walk(AtOperation.S12E1R, va + 0x123);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        r.OutputIsIntermediate.Should().BeFalse();
        r.VirtualAddress.Should().Be(new VirtualAddress(va + 0x123));
        r.IntermediatePhysicalAddress.Should().Be(new IntermediatePhysicalAddress(ipa + 0x123));
        r.PhysicalAddress.Should().Be(new PhysicalAddress(pa + 0x123));
    }

    [Fact]
    public void WalkResult_OfStage1Alone_UnderAnEnabledStage2_HasAnIpaAndNoPa()
    {
        // AT S1E1R with HCR_EL2.VM=1: PAR_EL1 holds the IPA (Arm ARM C5.5, AT S1E1R: "stage 1 translation").
        var n = Nested(out ulong va, out ulong ipa, out _);
        var r = n.Walk(AtOperation.S1E1R, va + 0x40);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        r.OutputIsIntermediate.Should().BeTrue();
        r.IntermediatePhysicalAddress.Should().Be(new IntermediatePhysicalAddress(ipa + 0x40));
        r.Invoking(x => x.PhysicalAddress).Should().Throw<InvalidOperationException>().WithMessage("*IntermediatePhysicalAddress*");
    }

    [Fact]
    public void WalkResult_WithoutStage2_HasNoIpa()
    {
        var rig = new Stage1Rig(Granule.Size4K, 48);
        rig.Map(0x4000, 0x8_0000, 3);
        var r = rig.Walk(AtOperation.S1E1R, 0x4008);
        r.PhysicalAddress.Should().Be(new PhysicalAddress(0x8_0008));
        r.VirtualAddress.Should().Be(new VirtualAddress(0x4008));
        r.OutputIsIntermediate.Should().BeFalse();
        r.Invoking(x => x.IntermediatePhysicalAddress).Should().Throw<InvalidOperationException>().WithMessage("*no stage 2*");
    }

    [Fact]
    public void WalkResult_OfAStage2OnlyWalk_HasAnIpaInputAndNoVa()
    {
        var n = Nested(out _, out ulong ipa, out ulong pa);
        WalkResult r = default;
        n.Pe.Walker.TranslateStage2(n.Pe.Stage2, new IntermediatePhysicalAddress(ipa + 8), new AccessRequest(AccessKind.Read, false), ref r);
        r.Succeeded.Should().BeTrue(r.Fault.ToString());
        r.IntermediatePhysicalAddress.Should().Be(new IntermediatePhysicalAddress(ipa + 8));
        r.PhysicalAddress.Should().Be(new PhysicalAddress(pa + 8));
        r.Invoking(x => x.VirtualAddress).Should().Throw<InvalidOperationException>().WithMessage("*stage-2-only*");
    }
}
