using System.Text.RegularExpressions;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>
/// The README's "Using the library" example, compiled from the README text itself and run: it must build and
/// give the PAR_EL1 its closing comment claims.
/// </summary>
public partial class ReadmeExampleTests
{
    private static string LibraryExample() => CSharpExample.Block("README.md", "## Using the library");

    [GeneratedRegex(@"Par par = .*//\s*PA (?<pa>0x[0-9a-fA-F]+), ATTR (?<attr>0x[0-9a-fA-F]+), SH (?<sh>\d)")]
    private static partial Regex ClaimRegex();

    [Fact]
    public void ReadmeLibraryExampleGivesTheParItClaims()
    {
        string code = LibraryExample();
        var claim = ClaimRegex().Match(code);
        claim.Success.Should().BeTrue("the example ends with `Par par = ...; // PA ..., ATTR ..., SH ...`");
        ulong pa = Convert.ToUInt64(claim.Groups["pa"].Value[2..], 16);
        byte attr = Convert.ToByte(claim.Groups["attr"].Value[2..], 16);
        var sh = (Shareability)int.Parse(claim.Groups["sh"].Value);

        // Hand the PAR back to the test through AppContext (the example is a top-level program).
        string program = code + "\nSystem.AppContext.SetData(\"Arm64Mmu.ReadmePar\", par.Value);\n";
        CSharpExample.Run(program, typeof(Par).Assembly);
        var par = new Par((ulong)AppContext.GetData("Arm64Mmu.ReadmePar")!);

        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(pa);
        par.Attributes.Should().Be(attr);
        par.Shareability.Should().Be(sh);
        // And what the architecture says for that example: VA 0x12345678 → page 0x87654000, MAIR Attr1 = 0xFF, SH Inner.
        par.Value.Should().Be(0xFF00_0000_8765_4000UL | 1UL << 11 | 3UL << 7);
    }
}
