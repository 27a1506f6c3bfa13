using System.Diagnostics;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>Runs the arm64mmu tool as a separate process, as a user runs it (standard output and error redirected).</summary>
internal static class CliProcess
{
    public static (int Exit, string Out, string Err) Run(params string[] args) => Run(new Dictionary<string, string?>(), args);

    /// <summary>Runs with environment variables set (a null value removes the variable).</summary>
    public static (int Exit, string Out, string Err) Run(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Arm64Mmu.Cli.dll");
        File.Exists(cli).Should().BeTrue("the test project references the CLI, so its assembly is beside the tests");
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEndAsync();
        proc.WaitForExit(120_000).Should().BeTrue("the CLI must not hang");
        return (proc.ExitCode, stdout.Result, stderr.Result);
    }
}
