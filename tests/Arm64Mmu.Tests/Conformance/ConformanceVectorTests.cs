using Arm64Mmu.Cli.Conformance;

namespace Arm64Mmu.Tests.Conformance;

public class ConformanceVectorTests
{
    public static TheoryData<string> VectorFiles()
    {
        var data = new TheoryData<string>();
        string dir = TestVectors.ConformanceDirectory;
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "public"), "*.json").Order()) data.Add(Path.GetRelativePath(dir, f));
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "supplement"), "*.json").Order()) data.Add(Path.GetRelativePath(dir, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void EveryQueryMatchesTheRecordedPar(string relativePath)
    {
        var file = VectorFile.Load(Path.Combine(TestVectors.ConformanceDirectory, relativePath));
        file.Cases.Should().NotBeEmpty();
        var failures = new List<string>();
        int queries = 0;
        foreach (var c in file.Cases)
        {
            ulong[] pars = ConformanceRunner.Run(c, file.Features);
            for (int i = 0; i < pars.Length; i++)
            {
                queries++;
                if (!ConformanceRunner.Matches(c.Queries[i], pars[i]))
                    failures.Add($"{c.Name} #{i} {c.Queries[i].Op} 0x{c.Queries[i].Va:x}: expected 0x{c.Queries[i].Par:x16} got 0x{pars[i]:x16}");
            }
        }
        queries.Should().BeGreaterThan(0);
        failures.Should().BeEmpty();
    }
}
