namespace Arm64Mmu.Cli;

/// <summary>Reading an input file in bounded memory: a file larger than the limit (or an endless one, <c>/dev/zero</c>) is refused.</summary>
internal static class InputFile
{
    /// <summary>The whole file, if it holds at most <paramref name="limit"/> bytes.</summary>
    /// <exception cref="IOException">The file cannot be read, or is larger than the limit (the message names <paramref name="option"/>).</exception>
    public static byte[] ReadBytes(string path, long limit, string option)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        // A regular file's size is known: refuse it at once. Others (pipes, /dev/zero) are cut off as they are read.
        if (file.CanSeek && file.Length > limit) throw TooLarge(limit, option);
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (true)
        {
            int n = file.Read(chunk, 0, (int)Math.Min(chunk.Length, limit + 1 - buffer.Length));
            if (n == 0) return buffer.ToArray();
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limit) throw TooLarge(limit, option);
        }
    }

    private static IOException TooLarge(long limit, string option)
        => new($"the file is larger than the input limit of {(limit % (1 << 20) == 0 ? $"{limit >> 20} MiB" : $"{limit} bytes")} ({option} raises it)");

    /// <summary>Refuses an empty path with a message naming the option or argument it came from.</summary>
    public static string Require(string? path, string what)
        => string.IsNullOrEmpty(path) ? throw new CliException($"{what}: an empty path; give a file name") : path;
}
