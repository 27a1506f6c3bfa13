namespace Arm64Mmu.Simulation.Traces;

/// <summary>The trace formats the simulator reads (docs/simulate.md).</summary>
public enum TraceFormat : byte
{
    /// <summary>valgrind lackey text (<c>valgrind --tool=lackey --trace-mem=yes</c>): <c>I  addr,size</c>, <c> L </c>, <c> S </c>, <c> M </c> lines.</summary>
    Lackey,
    /// <summary>ChampSim's 64-byte binary instruction records (<c>.champsimtrace</c>).</summary>
    ChampSim,
    /// <summary>The project's compact binary format (<c>.a64t</c>, docs/trace-format-compact.md).</summary>
    Compact,
}

/// <summary>Names of the trace formats as the CLI and configuration spell them.</summary>
public static class TraceFormats
{
    /// <summary>The names accepted by <see cref="Parse"/>.</summary>
    public const string Allowed = "auto, lackey, champsim, compact";

    /// <summary>The format's name.</summary>
    public static string Name(this TraceFormat format) => format switch
    {
        TraceFormat.Lackey => "lackey",
        TraceFormat.ChampSim => "champsim",
        _ => "compact",
    };

    /// <summary>Parses a format name; null for <c>auto</c>.</summary>
    /// <exception cref="ArgumentException">Another name (the message lists the allowed ones).</exception>
    public static TraceFormat? Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => null,
        "lackey" => TraceFormat.Lackey,
        "champsim" => TraceFormat.ChampSim,
        "compact" or "a64t" => TraceFormat.Compact,
        _ => throw new ArgumentException($"trace format '{name}': allowed {Allowed}"),
    };
}
