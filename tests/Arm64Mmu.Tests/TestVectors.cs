namespace Arm64Mmu.Tests;

/// <summary>
/// The conformance vectors the tests read: the repository's copy in <c>tests/vectors</c>, copied beside the test
/// assembly at build time, so a plain clone needs nothing outside the repository.
/// </summary>
internal static class TestVectors
{
    /// <summary>The folder holding <c>public/*.json</c> and <c>supplement/*.json</c>.</summary>
    public static string ConformanceDirectory
    {
        get
        {
            string dir = Path.Combine(AppContext.BaseDirectory, "vectors");
            if (!Directory.Exists(Path.Combine(dir, "public")))
                throw new DirectoryNotFoundException($"{dir}/public not found: the test project copies tests/vectors beside its assembly; rebuild it");
            return dir;
        }
    }
}
