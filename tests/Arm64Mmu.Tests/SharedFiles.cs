namespace Arm64Mmu.Tests;

/// <summary>Finds third-party data in the project's shared/ folder beside the checkout, when it is there (the conformance vectors are in the repository: <see cref="TestVectors"/>).</summary>
internal static class SharedFiles
{
    /// <summary>
    /// Casemate's published example traces (third-party data under their own licence, never copied into the repository):
    /// <c>shared/casemate/examples</c> in the first folder above the test's base directory that has one
    /// (or under $ARM64MMU_SHARED), or null when there is none (a plain clone).
    /// </summary>
    public static string? CasemateExamplesDirectory
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("ARM64MMU_SHARED");
            if (env is not null) return Directory.Exists(Path.Combine(env, "casemate", "examples")) ? Path.Combine(env, "casemate", "examples") : null;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "casemate", "examples");
                if (Directory.Exists(candidate)) return candidate;
            }
            return null;
        }
    }
}
