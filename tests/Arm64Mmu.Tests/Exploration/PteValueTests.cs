using Arm64Mmu.Architecture;
using Arm64Mmu.Exploration;

namespace Arm64Mmu.Tests.Exploration;

/// <summary>herd7's descriptor records against the VMSAv8-64 stage-1 page descriptor bits (Arm ARM D8.3).</summary>
public class PteValueTests
{
    [Fact]
    public void Defaults_AreAValidAccessedWritableEl0Page()
    {
        ulong d = new PteValue("x").AttributeBits();
        (d & Descriptor.Valid).Should().NotBe(0);
        (d & Descriptor.TableOrPage).Should().NotBe(0, "a level-3 page descriptor has bits[1:0] = 0b11");
        (d & Descriptor.Af).Should().NotBe(0);
        (d & Descriptor.Ap2).Should().Be(0, "db:1 means writable: AP[2] clear");
        (d & Descriptor.Ap1).Should().NotBe(0, "el0:1 means EL0 access: AP[1] set");
        (d & Descriptor.Dbm).Should().Be(0);
        (d & Descriptor.Uxn).Should().Be(0);
    }

    [Theory]
    [InlineData("valid", Descriptor.Valid, true)]
    [InlineData("af", Descriptor.Af, true)]
    [InlineData("db", Descriptor.Ap2, false)]
    [InlineData("dbm", Descriptor.Dbm, true)]
    [InlineData("el0", Descriptor.Ap1, true)]
    [InlineData("x", Descriptor.Uxn, false)]
    public void EachField_IsOneDescriptorBit(string field, ulong bit, bool setMeansOne)
    {
        ulong one = new PteValue("x").With(field, 1).AttributeBits();
        ulong zero = new PteValue("x").With(field, 0).AttributeBits();
        (one ^ zero).Should().Be(bit);
        ((one & bit) != 0).Should().Be(setMeansOne);
    }

    [Fact]
    public void Format_PrintsOnlyNonDefaultFields_InHerdOrder()
    {
        new PteValue("x").Format().Should().Be("(oa:PA(x))");
        new PteValue("x", Valid: 0, Af: 0, Db: 0, Dbm: 1, El0: 0, Executable: 0).Format()
            .Should().Be("(oa:PA(x), af:0, db:0, dbm:1, valid:0, el0:0, x:0)");
    }

    [Fact]
    public void FromDescriptor_InvertsAttributeBits()
    {
        var p = new PteValue("y", Valid: 0, Af: 0, Dbm: 1);
        PteValue.FromDescriptor(p.AttributeBits(), "y").Should().Be(p);
    }

    [Fact]
    public void With_RejectsValuesOtherThanZeroOrOne()
        => FluentActions.Invoking(() => new PteValue("x").With("af", 2)).Should().Throw<FormatException>();
}
