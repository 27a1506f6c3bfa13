using System.Diagnostics;

namespace Arm64Mmu.Tests.HostileInput;

/// <summary>What one run of the arm64mmu tool did: exit status, output, and what it cost.</summary>
internal sealed record CliRun(int Exit, string Out, string Err, TimeSpan Elapsed, long AllocatedBytes)
{
    /// <summary>
    /// A usage or input error: exit status 2 and exactly one line "arm64mmu: error: …" on standard error, with no stack
    /// trace and no raw control character, that mentions each of <paramref name="mentions"/>.
    /// </summary>
    public CliRun ShouldBeOneLineError(params string[] mentions)
    {
        Exit.Should().Be(2, $"a usage or input error exits 2 (stderr: {Err})");
        string err = Err.TrimEnd('\n', '\r');
        err.Should().StartWith("arm64mmu: error: ");
        err.Should().NotContain("\n", "an error is one line");
        ShouldHaveNoStackTrace();
        foreach (var m in mentions) err.Should().Contain(m);
        return this;
    }

    public void ShouldHaveNoStackTrace()
    {
        (Out + Err).Should().NotContain("   at ", "no stack trace reaches the user").And.NotContain("internal error");
        Err.TrimEnd('\n', '\r').Where(c => c < 0x20 && c != '\n' && c != '\r').Should().BeEmpty("control characters from the input are escaped");
    }

    /// <summary>
    /// Generous bounds that a hang or a memory blow-up would break by orders of magnitude (the machine is shared and
    /// slow, so these are not performance figures: those live in docs/performance.md).
    /// </summary>
    public CliRun ShouldBeBounded(double seconds = 30, long megabytes = 400)
    {
        Elapsed.TotalSeconds.Should().BeLessThan(seconds);
        (AllocatedBytes >> 20).Should().BeLessThan(megabytes, "memory is bounded by the limits, not by what the input asks for");
        return this;
    }
}

/// <summary>Runs the arm64mmu tool in this process (its entry point, with the console captured) or, where a crash cannot be caught in-process, as a child process.</summary>
internal static class HostileCli
{
    public static CliRun Run(params string[] args)
    {
        var entry = typeof(Arm64Mmu.Cli.CliException).Assembly.EntryPoint!;
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        try
        {
            int code = (int)entry.Invoke(null, new object[] { args })!;
            sw.Stop();
            return new CliRun(code, o.ToString(), e.ToString(), sw.Elapsed, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    /// <summary>Runs the tool as a child process (a stack overflow would end this one), with its peak working set as the memory figure.</summary>
    public static CliRun RunProcess(params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Arm64Mmu.Cli.dll");
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!proc.WaitForExit(50))
        {
            try { proc.Refresh(); peak = Math.Max(peak, proc.PeakWorkingSet64); } catch (InvalidOperationException) { }
            if (sw.Elapsed > TimeSpan.FromSeconds(120))
            {
                proc.Kill();
                throw new TimeoutException($"arm64mmu {string.Join(' ', args)} did not end within 120 s");
            }
        }
        sw.Stop();
        return new CliRun(proc.ExitCode, stdout.Result, stderr.Result, sw.Elapsed, peak);
    }

    /// <summary>A temporary directory removed with its files when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("arm64mmu-hostile-").FullName;
        public string File(string name, string text)
        {
            string p = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllText(p, text);
            return p;
        }
        public string File(string name, byte[] bytes)
        {
            string p = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllBytes(p, bytes);
            return p;
        }
        public string Name(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
