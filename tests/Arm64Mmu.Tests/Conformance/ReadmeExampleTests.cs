using System.Reflection;
using System.Text.RegularExpressions;
using Arm64Mmu.Architecture;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>
/// The README's "Using the library" example, compiled from the README text itself and run: it must build and
/// give the PAR_EL1 its closing comment claims.
/// </summary>
public partial class ReadmeExampleTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Arm64Mmu.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Arm64Mmu.sln not found above " + AppContext.BaseDirectory);
    }

    private static string LibraryExample()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var m = Regex.Match(readme, @"## Using the library\s+```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        m.Success.Should().BeTrue("README.md has a C# block under \"## Using the library\"");
        return m.Groups["code"].Value;
    }

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
        var refs = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(p => MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(Par).Assembly.Location));
        var compilation = CSharpCompilation.Create("ReadmeExample",
            [CSharpSyntaxTree.ParseText(program, new CSharpParseOptions(LanguageVersion.Latest))], refs,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty();
        emitted.Success.Should().BeTrue();

        var entry = Assembly.Load(image.ToArray()).EntryPoint!;
        entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        var par = new Par((ulong)AppContext.GetData("Arm64Mmu.ReadmePar")!);

        par.Faulted.Should().BeFalse(par.ToString());
        par.PhysicalAddress.Should().Be(pa);
        par.Attributes.Should().Be(attr);
        par.Shareability.Should().Be(sh);
        // And what the architecture says for that example: VA 0x12345678 → page 0x87654000, MAIR Attr1 = 0xFF, SH Inner.
        par.Value.Should().Be(0xFF00_0000_8765_4000UL | 1UL << 11 | 3UL << 7);
    }
}
