namespace Arm64Mmu.Tests;

/// <summary>Finds the project's shared/ folder (beside the checkout) for the conformance vectors.</summary>
internal static class SharedFiles
{
    public static string ConformanceDirectory
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("ARM64MMU_SHARED");
            if (env is not null) return Path.Combine(env, "conformance");
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "conformance");
                if (Directory.Exists(Path.Combine(candidate, "public"))) return candidate;
                dir = dir.Parent;
            }
            throw new DirectoryNotFoundException("shared/conformance not found above " + AppContext.BaseDirectory + " (set ARM64MMU_SHARED)");
        }
    }
}
