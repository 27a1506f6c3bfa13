namespace Arm64Mmu.Checking.Traces;

/// <summary>Reads a trace in either supported format, telling them apart by their first record.</summary>
public static class TraceFile
{
    /// <summary>Reads a file.</summary>
    /// <exception cref="TraceFormatException">The file is not a readable trace.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ParsedTrace Load(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    /// <summary>Parses trace text: a Casemate s-expression trace when the first record starts with '(', otherwise the project's line format.</summary>
    public static ParsedTrace Parse(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var raw in text.Split('\n'))
        {
            string l = raw.Trim();
            if (l.Length == 0 || l[0] is '#' or ';') continue;
            return l[0] == '(' ? CasemateTraceReader.Parse(text, name) : NativeTraceReader.Parse(text, name);
        }
        return NativeTraceReader.Parse(text, name);
    }
}
