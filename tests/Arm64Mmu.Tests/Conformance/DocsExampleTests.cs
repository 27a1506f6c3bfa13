using Arm64Mmu.Checking;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>The C# examples of docs/ compiled and run: they must use APIs that exist and do what they say.</summary>
public class DocsExampleTests
{
    private const string Usings = """
        using Arm64Mmu.Architecture;
        using Arm64Mmu.Checking;
        using Arm64Mmu.Machine;
        using Arm64Mmu.Memory;
        using Arm64Mmu.PageTables;
        using Arm64Mmu.Tlb;
        using Arm64Mmu.Translation;
        using Arm64Mmu.Testing;
        using FluentAssertions;

        """;

    [Fact]
    public void CheckerDoc_UsingIt_RunsAndItsAssertionsHold()
        => CSharpExample.Run(Usings + CSharpExample.Block("docs/checker.md", "## Using it"), typeof(BreakBeforeMakeChecker).Assembly, typeof(FluentActions).Assembly);

    [Fact]
    public void Readme_UseTheLibraryFromYourProject_TestSnippetRuns()
        => CSharpExample.Run(Usings + CSharpExample.Block("README.md", "## Use the library from your project"),
            typeof(BreakBeforeMakeChecker).Assembly, typeof(FluentActions).Assembly, typeof(Arm64Mmu.Testing.MachineFixture).Assembly);
}
