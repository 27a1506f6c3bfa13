using System.IO.Compression;

namespace Arm64Mmu.Simulation.Traces;

/// <summary>Converts any readable trace to the compact format (<see cref="CompactTraceFormat"/>).</summary>
public static class TraceConverter
{
    /// <summary>
    /// Reads <paramref name="reader"/> to its end and writes every record to <paramref name="outputPath"/> in the compact
    /// format, gzip-compressed when the name ends in <c>.gz</c>. The file appears only when the whole trace was read
    /// (written to a temporary file first, then renamed). Returns the number of records.
    /// </summary>
    /// <exception cref="TraceInputException">The input is malformed (nothing is written).</exception>
    public static long ToCompact(TraceReader reader, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(outputPath);
        string full = Path.GetFullPath(outputPath);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            long count;
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Stream sink = full.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true) : file;
                try
                {
                    var writer = new CompactTraceWriter(sink, reader.HasInstructions);
                    var batch = new MemoryAccess[4096];
                    int n;
                    while ((n = reader.Read(batch)) > 0)
                        for (int i = 0; i < n; i++) writer.Write(in batch[i]);
                    writer.Complete();
                    count = writer.Count;
                }
                finally
                {
                    if (sink != file) sink.Dispose();
                }
            }
            File.Move(temp, full, overwrite: true);
            return count;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
