namespace Arm64Mmu.Cli.Simulation;

/// <summary>All-or-nothing output files: written to a temporary file beside the target, then renamed over it.</summary>
internal static class OutputFile
{
    /// <summary>Checks that a file can be created at <paramref name="path"/> (its folder exists) before any work starts.</summary>
    public static void CheckWritable(string? path, string option)
    {
        if (path is null) return;
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(dir)) throw new CliException($"{option} {path}: the folder {dir} does not exist");
        if (Directory.Exists(path)) throw new CliException($"{option} {path}: is a folder");
    }

    /// <summary>Writes the file through <paramref name="write"/>; on failure the target is untouched.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                write(s);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot write it: {e.Message}");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes text (UTF-8, no BOM).</summary>
    public static void WriteText(string path, string text)
        => Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(text)));
}
