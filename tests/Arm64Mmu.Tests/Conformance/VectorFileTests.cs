using System.Text.Json.Nodes;
using Arm64Mmu.Architecture;
using Arm64Mmu.Cli.Conformance;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>Parsing of the arm64mmu-conformance/1 format (tests/vectors/FORMAT.md): good files load, bad ones are named precisely.</summary>
public class VectorFileTests
{
    internal static JsonObject Valid() => new()
    {
        ["format"] = "arm64mmu-conformance/1",
        ["theme"] = "unit",
        ["id_registers"] = new JsonObject
        {
            ["ID_AA64MMFR0_EL1"] = "0x0000032310201126",
            ["ID_AA64MMFR1_EL1"] = "0x0000011010211122",
            ["ID_AA64MMFR2_EL1"] = "0x1021011010011011",
        },
        ["cases"] = new JsonArray(new JsonObject
        {
            ["name"] = "c0",
            ["description"] = "4K 48-bit, one page",
            ["regs"] = new JsonObject
            {
                ["SCTLR_EL1"] = "0x0000000030d01805", ["TCR_EL1"] = "0x00000005b5903510", ["MAIR_EL1"] = "0x000000bb0444ff00",
                ["TTBR0_EL1"] = "0x0000000049000000", ["TTBR1_EL1"] = "0x0", ["HCR_EL2"] = "0x80000000", ["VTCR_EL2"] = "0x0",
                ["VTTBR_EL2"] = "0x0", ["TCR_EL2"] = "0x80800000", ["TTBR0_EL2"] = "0x0", ["MAIR_EL2"] = "0x0", ["SCTLR_EL2"] = "0x0",
            },
            ["memory"] = new JsonArray(
                new JsonObject { ["pa"] = "0x49000000", ["qwords"] = new JsonArray("0x0000000049001003") },
                new JsonObject { ["pa"] = "0x49001000", ["qwords"] = new JsonArray("0x0000000049002003") },
                new JsonObject { ["pa"] = "0x49002000", ["qwords"] = new JsonArray("0x0000000049003003") },
                new JsonObject { ["pa"] = "0x49003008", ["qwords"] = new JsonArray("0x0000000087654747") }),
            ["queries"] = new JsonArray(
                new JsonObject { ["op"] = "S1E1R", ["va"] = "0x1234", ["par"] = "0xff00000087654b80" },
                new JsonObject { ["op"] = "AT s1e0w", ["va"] = "0x2000", ["par"] = "0x80f", ["note"] = "unmapped" }),
        }),
    };

    private static JsonObject Case0(JsonObject root) => (JsonObject)root["cases"]![0]!;

    private static string Parse(JsonNode root) => Error(root.ToJsonString());

    private static string Error(string text)
        => FluentActions.Invoking(() => VectorFile.Parse(text, "unit.json")).Should().Throw<VectorFormatException>().Which.Message;

    [Fact]
    public void AValidFileLoadsRegistersMemoryAndQueries()
    {
        var f = VectorFile.Parse(Valid().ToJsonString(), "unit.json");
        f.Theme.Should().Be("unit");
        f.Features.Should().Be(ProcessorFeatures.QemuMax);
        var c = f.Cases.Should().ContainSingle().Subject;
        c.Registers.Should().HaveCount(12);
        c.Registers[SystemRegister.TcrEl1].Should().Be(0x00000005b5903510UL);
        c.Memory.Should().HaveCount(4);
        c.Memory[3].Should().Match<MemoryRun>(m => m.Pa == 0x49003008UL && m.Qwords.Single() == 0x0000000087654747UL);
        c.Queries.Should().HaveCount(2);
        c.Queries[1].Should().Be(new VectorQuery(AtOperation.S1E0W, 0x2000, 0x80F, null, "unmapped"));
        // The recorded PAR has NS (bit 9) set by QEMU; the model leaves that UNKNOWN bit clear.
        ConformanceRunner.Run(c, f.Features).Should().Equal(0xff00000087654980UL, 0x80FUL);
    }

    [Fact]
    public void ValidFileAnswersMatchUnderTheFormatMasks()
    {
        var f = VectorFile.Parse(Valid().ToJsonString(), "unit.json");
        var c = f.Cases[0];
        var pars = ConformanceRunner.Run(c, f.Features);
        for (int i = 0; i < pars.Length; i++) ConformanceRunner.Matches(c.Queries[i], pars[i]).Should().BeTrue();
    }

    [Theory]
    [InlineData(0x1UL, 0x37FUL)]                   // fault: F, FST, PTW, S
    [InlineData(0xFF00000000000000UL, 0xFF0FFFFFFFFFF181UL)] // Normal cacheable: F, SH, PA, ATTR
    [InlineData(0x4400000000000000UL, 0xFF0FFFFFFFFFF001UL)] // Normal iNC oNC: SH not compared
    [InlineData(0x0400000000000000UL, 0xFF0FFFFFFFFFF001UL)] // Device: SH not compared
    public void DefaultMasksFollowFormatMd(ulong expected, ulong mask) => ConformanceRunner.DefaultMask(expected).Should().Be(mask);

    [Fact]
    public void BadJsonNamesTheLine()
        => Error("{\n \"format\": \"arm64mmu-conformance/1\",\n \"cases\": [\n").Should().StartWith("unit.json: not valid JSON (line");

    [Fact]
    public void TopLevelMustBeAnObject() => Error("[1, 2]").Should().Contain("top level must be an object");

    [Fact]
    public void WrongFormatStringIsNamed()
    {
        var root = Valid();
        root["format"] = "arm64mmu-conformance/2";
        Parse(root).Should().Be("unit.json: \"format\" is \"arm64mmu-conformance/2\"; expected \"arm64mmu-conformance/1\"");
    }

    [Fact]
    public void MissingFormatIsNamed()
    {
        var root = Valid();
        root.Remove("format");
        Parse(root).Should().Contain("\"format\" must be a string");
    }

    [Fact]
    public void CasesMustBeAnArray()
    {
        var root = Valid();
        root["cases"] = "none";
        Parse(root).Should().Contain("\"cases\" must be an array");
    }

    [Fact]
    public void MissingRegisterIsNamed()
    {
        var root = Valid();
        ((JsonObject)Case0(root)["regs"]!).Remove("VTCR_EL2");
        Parse(root).Should().Be("unit.json: case c0: regs.VTCR_EL2 is missing (all twelve registers are required)");
    }

    [Fact]
    public void UnknownRegisterIsNamed()
    {
        var root = Valid();
        Case0(root)["regs"]!["TCR_EL3"] = "0x0";
        Parse(root).Should().Contain("regs.TCR_EL3 is not a known register").And.Contain("TTBR0_EL1");
    }

    [Theory]
    [InlineData("0xZZ")]
    [InlineData("0x")]
    [InlineData("0x10000000000000000")] // 17 digits: more than 64 bits
    [InlineData("-1")]
    public void BadHexIsNamedWithItsField(string value)
    {
        var root = Valid();
        Case0(root)["regs"]!["TCR_EL1"] = value;
        Parse(root).Should().Be($"unit.json: case c0: regs.TCR_EL1 = \"{value}\" is not a 64-bit hex value (expected \"0x\" followed by 1 to 16 hex digits)");
    }

    [Fact]
    public void NonStringRegisterValueIsNamed()
    {
        var root = Valid();
        Case0(root)["regs"]!["MAIR_EL1"] = true;
        Parse(root).Should().Contain("regs.MAIR_EL1 is true; expected a \"0x...\" hex string");
    }

    [Fact]
    public void UnknownOpIsNamedWithTheAllowedOnes()
    {
        var root = Valid();
        Case0(root)["queries"]![0]!["op"] = "S1E3R";
        Parse(root).Should().StartWith("unit.json: case c0: queries[0].op = \"S1E3R\" is not an AT operation (allowed: S1E1R, S1E1W");
    }

    [Fact]
    public void NumericOpIsNotAnOperation()
    {
        var root = Valid();
        Case0(root)["queries"]![0]!["op"] = "3";
        Parse(root).Should().Contain("queries[0].op = \"3\" is not an AT operation");
    }

    [Fact]
    public void MissingVaIsNamed()
    {
        var root = Valid();
        ((JsonObject)Case0(root)["queries"]![1]!).Remove("va");
        Parse(root).Should().Be("unit.json: case c0: queries[1].va is missing; expected a \"0x...\" hex string");
    }

    [Fact]
    public void BadParIsNamed()
    {
        var root = Valid();
        Case0(root)["queries"]![1]!["par"] = "0xG";
        Parse(root).Should().Contain("queries[1].par = \"0xG\"");
    }

    [Fact]
    public void MisalignedMemoryRunIsNamed()
    {
        var root = Valid();
        Case0(root)["memory"]![2]!["pa"] = "0x49002004";
        Parse(root).Should().Be("unit.json: case c0: memory[2].pa = 0x49002004 is not 8-byte aligned");
    }

    [Fact]
    public void MemoryRunBeyond52BitsIsNamed()
    {
        var root = Valid();
        Case0(root)["memory"]![0]!["pa"] = "0x000ffffffffffff8";
        ((JsonArray)Case0(root)["memory"]![0]!["qwords"]!).Add("0x1");
        Parse(root).Should().Contain("memory[0]: the run at 0xffffffffffff8 extends beyond the 52-bit physical address space");
    }

    [Fact]
    public void MalformedMemoryRunIsNamed()
    {
        var root = Valid();
        ((JsonObject)Case0(root)["memory"]![1]!).Remove("qwords");
        Parse(root).Should().Contain("memory[1]: expected {\"pa\": \"0x...\", \"qwords\": [\"0x...\", ...]}");
    }

    [Fact]
    public void DuplicateCaseNamesAreRejected()
    {
        var root = Valid();
        ((JsonArray)root["cases"]!).Add(Case0(Valid()).DeepClone());
        Parse(root).Should().Be("unit.json: case c0: the name appears twice");
    }

    [Fact]
    public void ReservedIdRegisterValueIsNamed()
    {
        var root = Valid();
        root["id_registers"]!["ID_AA64MMFR0_EL1"] = "0x0000032310201127"; // PARange 0b0111 is reserved
        Parse(root).Should().Contain("id_registers: ID_AA64MMFR0_EL1.PARange = 7");
    }

    [Fact]
    public void MissingFileIsAFormatErrorNotACrash()
        => FluentActions.Invoking(() => VectorFile.Load("/nonexistent/dir/vectors.json")).Should().Throw<VectorFormatException>()
            .WithMessage("/nonexistent/dir/vectors.json: cannot read the file*");

    [Theory]
    [InlineData("0x1f", 0x1FUL)]
    [InlineData("0X1F", 0x1FUL)]
    [InlineData("0xffff_ffff_ffff_ffff", ulong.MaxValue)]
    [InlineData("42", 42UL)]
    public void HexAcceptsPrefixedHexUnderscoresAndDecimal(string text, ulong value)
    {
        VectorFile.TryParseHex(text, out ulong v).Should().BeTrue();
        v.Should().Be(value);
    }
}
