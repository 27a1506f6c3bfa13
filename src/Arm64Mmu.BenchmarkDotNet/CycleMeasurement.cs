using System.Globalization;
using System.Text;
using Arm64Mmu.Timing;

namespace Arm64Mmu.BenchmarkDotNet;

/// <summary>
/// Simulated cycles spent by a workload, by category, and the number of operations it performed. The benchmark process
/// prints it as one line (<see cref="ToLine"/>) that the columns read back from the benchmark's output (<see cref="TryParse"/>).
/// </summary>
public sealed class CycleMeasurement
{
    /// <summary>The prefix of the line in the benchmark's standard output.</summary>
    public const string LinePrefix = "// Arm64Mmu.SimulatedCycles";

    private static readonly CycleCategory[] Categories = Enum.GetValues<CycleCategory>();
    private readonly ulong[] _cycles;

    /// <summary>Creates a measurement.</summary>
    /// <param name="operations">Operations the cycles were spent on (at least 1).</param>
    /// <param name="cyclesByCategory">Total cycles per category, indexed by <see cref="CycleCategory"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="operations"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The array does not have one entry per category.</exception>
    public CycleMeasurement(long operations, IReadOnlyList<ulong> cyclesByCategory)
    {
        ArgumentNullException.ThrowIfNull(cyclesByCategory);
        if (operations < 1) throw new ArgumentOutOfRangeException(nameof(operations), $"{operations} operations: at least 1");
        if (cyclesByCategory.Count != Categories.Length)
            throw new ArgumentException($"{cyclesByCategory.Count} categories given, {Categories.Length} expected ({string.Join(", ", Categories)})", nameof(cyclesByCategory));
        Operations = operations;
        _cycles = cyclesByCategory.ToArray();
    }

    /// <summary>Operations performed.</summary>
    public long Operations { get; }
    /// <summary>Total cycles of a category.</summary>
    public ulong Cycles(CycleCategory category) => _cycles[(int)category];
    /// <summary>Total cycles over all categories.</summary>
    public ulong TotalCycles => _cycles.Aggregate(0UL, (a, b) => a + b);
    /// <summary>Cycles of a category per operation.</summary>
    public double PerOperation(CycleCategory category) => (double)Cycles(category) / Operations;
    /// <summary>Total cycles per operation.</summary>
    public double TotalPerOperation => (double)TotalCycles / Operations;

    /// <summary>The line printed to standard output: the prefix, <c>ops=N</c> and <c>Category=cycles</c> for every category.</summary>
    public string ToLine()
    {
        var sb = new StringBuilder(LinePrefix);
        sb.Append(CultureInfo.InvariantCulture, $" ops={Operations}");
        foreach (var c in Categories) sb.Append(CultureInfo.InvariantCulture, $" {c}={_cycles[(int)c]}");
        return sb.ToString();
    }

    /// <summary>Reads a line written by <see cref="ToLine"/>; false for any other line or a malformed one.</summary>
    public static bool TryParse(string line, out CycleMeasurement? measurement)
    {
        measurement = null;
        if (line is null || !line.StartsWith(LinePrefix + " ", StringComparison.Ordinal)) return false;
        long ops = 0;
        var cycles = new ulong[Categories.Length];
        var seen = new bool[Categories.Length];
        foreach (var field in line[(LinePrefix.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = field.IndexOf('=');
            if (eq <= 0) return false;
            string key = field[..eq], value = field[(eq + 1)..];
            if (key == "ops")
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ops) || ops < 1) return false;
            }
            else if (Enum.TryParse<CycleCategory>(key, ignoreCase: false, out var c) && Enum.IsDefined(c))
            {
                if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out cycles[(int)c])) return false;
                seen[(int)c] = true;
            }
            else return false;
        }
        if (ops < 1 || seen.Contains(false)) return false;
        measurement = new CycleMeasurement(ops, cycles);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{TotalPerOperation:0.##} cycles/op over {Operations} ops (")
           + string.Join(", ", Categories.Where(c => _cycles[(int)c] != 0).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c} {PerOperation(c):0.##}"))) + ")";
}
