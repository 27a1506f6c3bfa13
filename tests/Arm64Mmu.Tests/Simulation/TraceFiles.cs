using System.IO.Compression;
using System.Text;
using Arm64Mmu.Simulation.Traces;

namespace Arm64Mmu.Tests.Simulation;

/// <summary>The checked-in traces (Simulation/Data, made by make-traces.sh) and helpers to write test traces.</summary>
internal static class TraceFiles
{
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Simulation", "Data", name);

    /// <summary>The text of a gzip file, decompressed with the runtime's own decoder (independent of the reader under test).</summary>
    public static string GunzipText(string path)
    {
        using var f = File.OpenRead(path);
        using var z = new GZipStream(f, CompressionMode.Decompress);
        using var r = new StreamReader(z, Encoding.ASCII);
        return r.ReadToEnd();
    }

    /// <summary>Reads every record of a reader.</summary>
    public static List<MemoryAccess> ReadAll(TraceReader reader)
    {
        var all = new List<MemoryAccess>();
        var buf = new MemoryAccess[1000];
        int n;
        while ((n = reader.Read(buf)) > 0) all.AddRange(buf.AsSpan(0, n).ToArray());
        return all;
    }

    public static List<MemoryAccess> ReadAll(string path, TraceFormat? format = null)
    {
        using var r = TraceReader.Open(path, format);
        return ReadAll(r);
    }

    /// <summary>Parses lackey text independently of the reader: the test's own reading of the format.</summary>
    public static List<MemoryAccess> ParseLackeyIndependently(string text)
    {
        var list = new List<MemoryAccess>();
        foreach (var raw in text.Split('\n'))
        {
            if (raw.Length == 0 || raw.StartsWith("==", StringComparison.Ordinal)) continue;
            var kind = raw[..3] switch
            {
                "I  " => MemoryAccessKind.Fetch,
                " L " => MemoryAccessKind.Load,
                " S " => MemoryAccessKind.Store,
                " M " => MemoryAccessKind.Modify,
                _ => throw new FormatException(raw),
            };
            var parts = raw[3..].Split(',');
            list.Add(new MemoryAccess(Convert.ToUInt64(parts[0], 16), uint.Parse(parts[1]), kind));
        }
        return list;
    }

    public static string TempFile(string suffix) => Path.Combine(Path.GetTempPath(), $"a64sim-{Guid.NewGuid():N}{suffix}");

    public static string WriteText(string text, string suffix = ".lackey")
    {
        string p = TempFile(suffix);
        File.WriteAllText(p, text);
        return p;
    }

    public static string WriteGzip(byte[] data, string suffix)
    {
        string p = TempFile(suffix);
        using var f = File.Create(p);
        using var z = new GZipStream(f, CompressionLevel.Optimal);
        z.Write(data);
        return p;
    }

    /// <summary>Lackey text for records (the format valgrind writes).</summary>
    public static string Lackey(IEnumerable<MemoryAccess> accesses)
    {
        var sb = new StringBuilder("==1== Lackey, an example Valgrind tool\n");
        foreach (var a in accesses)
            sb.Append(a.Kind switch { MemoryAccessKind.Fetch => "I  ", MemoryAccessKind.Load => " L ", MemoryAccessKind.Store => " S ", _ => " M " })
              .Append(a.Address.ToString("x8")).Append(',').Append(a.Size).Append('\n');
        sb.Append("==1== \n");
        return sb.ToString();
    }
}
