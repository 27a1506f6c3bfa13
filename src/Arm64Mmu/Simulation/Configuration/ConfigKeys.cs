using System.Globalization;
using System.Reflection;
using System.Text;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Simulation.Configuration;

/// <summary>Every configuration key of a simulation (docs/simulate.md lists them with their meaning).</summary>
public static class ConfigKeys
{
    /// <summary>Replacement policy names, as keys spell them.</summary>
    public const string ReplacementNames = "lru, plru, random, clock, round-robin";
    /// <summary>The TLB structures that keys configure, by key prefix.</summary>
    public static IReadOnlyList<string> Structures { get; } = ["l1i", "l1d", "l2", "walk_cache", "ipa_cache"];

    private static readonly Dictionary<string, ConfigKey> ByName = new(StringComparer.Ordinal);
    private static readonly List<ConfigKey> Ordered = new();

    /// <summary>Every key, in the order reports list them.</summary>
    public static IReadOnlyList<ConfigKey> All => Ordered;

    /// <summary>The key of a name, or null.</summary>
    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    static ConfigKeys()
    {
        Add("profile", "core profile: TLB geometry, latencies and features (docs/cost-model.md)", string.Join(", ", CoreProfile.BuiltInNames),
            v => CoreProfile.FromName(v)?.Name, _ => CoreProfile.NeoverseN1.Name);
        Add("pes", "processing elements, one per trace (auto); with one trace, N replays it on N PEs", "auto or 1 to 4095",
            v => v.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? "auto" : Integer(v, 1, 4095), _ => "auto");
        Add("sharing", "threads: the PEs share one address space (one ASID); processes: one address space and ASID each", "threads, processes",
            v => OneOf(v, "threads", "processes"), _ => "threads");
        Add("interleave", "how PEs take turns: one instruction (a fetch and its data accesses) or one access each, round-robin; auto = instruction when every trace has instructions", "auto, instruction, access",
            v => OneOf(v, "auto", "instruction", "access"), _ => "auto");
        Add("granule", "stage-1 translation granule", "4k, 16k, 64k", Granule, _ => "4k");
        Add("page_size", "stage-1 page-size policy: one leaf size for every page, or huge (granule pages, promoted to a level-2 block once every page of an aligned block has been touched)",
            "the granule, a block size it allows (4k: 2m, 1g, 512g with lpa2; 16k: 32m, 64g with lpa2; 64k: 512m, 4t with lpa2), or huge",
            PageSize, c => c.Get("granule"));
        Add("va_bits", "virtual address size (TTBR0 and TTBR1 halves)", "25 to 48, or 52 with lpa2 = true", v => Integer(v, 25, 52), _ => "48");
        Add("lpa2", "PEs with FEAT_LPA2 (4k/16k: TCR.DS = 1, 52-bit descriptors) or FEAT_LVA/LPA (64k); needed for va_bits = 52", "true, false", Boolean, _ => "false");
        Add("pa_bits", "physical (output) address size of the PEs (ID_AA64MMFR0_EL1.PARange)", "32, 36, 40, 42, 44, 48, or 52 with lpa2 = true",
            v => OneOf(v, "32", "36", "40", "42", "44", "48", "52"), c => c.Get("lpa2") == "true" ? "52" : CoreProfile.FromName(c.Get("profile"))!.Features.PaRangeBits.ToString(CultureInfo.InvariantCulture));
        Add("stage2", "stage 2 (a guest under a hypervisor): off, or its granule", "off, 4k, 16k, 64k", v => OneOf(v, "off") ?? Granule(v), _ => "off");
        Add("stage2_page_size", "stage-2 page-size policy (as page_size, for the stage-2 granule)", "as page_size, for the stage-2 granule", PageSize,
            c => c.Get("stage2") == "off" ? "4k" : c.Get("stage2"));
        Add("ipa_bits", "intermediate physical address size of the guest (VTCR_EL2.T0SZ); the stage-2 start level follows from it", "32 to pa_bits",
            v => Integer(v, 32, 52), c => c.Get("pa_bits"));
        Add("phys_alloc", "how physical frames are handed out on first touch: in order of first touch, uniformly at random (seeded), or from memory with a seeded share of fragmented level-2 blocks", "contiguous, random, fragmented",
            v => OneOf(v, "contiguous", "random", "fragmented"), _ => "contiguous");
        Add("fragmentation", "fragmented allocation: share of level-2 blocks that are fragmented (half their frames in use by others)", "0 to 1",
            Fraction, _ => "0.5");
        Add("phys_mem", "memory the allocator hands out (guest and host each, with stage 2)", "a size such as 512m, 64g or 1t (a multiple of 2m), at most 2^pa_bits − 2g",
            PhysicalMemory, _ => "64g");
        Add("seed", "seed of the random and fragmented allocators", "0 to 18446744073709551615", v => ulong.TryParse(v.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s.ToString(CultureInfo.InvariantCulture) : null, _ => "1");
        foreach (string s in Structures)
        {
            bool l1 = s.StartsWith("l1", StringComparison.Ordinal);
            string what = s switch
            {
                "l1i" => "L1 instruction TLB",
                "l1d" => "L1 data TLB",
                "l2" => "unified L2 TLB",
                "walk_cache" => "walk cache (table descriptors of stage 1 and stage 2)",
                _ => "IPA cache (stage-2 translations)",
            };
            string key = s;
            Add($"{s}.entries", $"{what}: entries{(l1 ? "" : " (0: none)")}", l1 ? "1 to 1048576" : "0 (none) to 1048576",
                v => Integer(v, l1 ? 1 : 0, 1 << 20), c => Structure(c, key).Entries.ToString(CultureInfo.InvariantCulture));
            Add($"{s}.ways", $"{what}: associativity (sets = entries / ways, indexed by (input page number) mod sets)", "full, or a divisor of the entries giving a power-of-two number of sets",
                v => v.Trim().Equals("full", StringComparison.OrdinalIgnoreCase) ? "full" : Integer(v, 1, 1 << 20), c => DefaultWays(c, key));
            Add($"{s}.replacement", $"{what}: replacement policy", ReplacementNames,
                v => OneOf(v, "lru", "plru", "random", "clock", "round-robin"), c => ReplacementName(Structure(c, key).Replacement));
        }
        foreach (var p in CostProperties)
            Add(CostKey(p), $"core profile figure {p.Name} (docs/cost-model.md)", "0 to 1000000",
                v => Integer(v, p.Name.EndsWith("Lines", StringComparison.Ordinal) ? 1 : 0, 1_000_000),
                c => ((int)p.GetValue(CoreProfile.FromName(c.Get("profile"))!)!).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The integer figures of <see cref="CoreProfile"/> that <c>cost.*</c> keys set.</summary>
    internal static IReadOnlyList<PropertyInfo> CostProperties { get; } = typeof(CoreProfile).GetProperties()
        .Where(p => p.PropertyType == typeof(int) && p.CanWrite).OrderBy(p => p.MetadataToken).ToArray();

    /// <summary>The <c>cost.*</c> key of each integer figure of <see cref="CoreProfile"/>.</summary>
    internal static IReadOnlyList<(PropertyInfo Property, string Key)> CostKeys { get; } = CostProperties.Select(p => (p, CostKey(p))).ToArray();

    private static string CostKey(PropertyInfo p) => $"cost.{Snake(p.Name)}";

    private static void Add(string name, string description, string allowed, Func<string, string?> normalize, Func<SimulationConfig, string> defaultValue)
    {
        var k = new ConfigKey(name, description, allowed, normalize, defaultValue);
        ByName.Add(name, k);
        Ordered.Add(k);
    }

    internal static TlbConfiguration Structure(SimulationConfig c, string s)
    {
        var t = CoreProfile.FromName(c.Get("profile"))!.Tlbs;
        return s switch
        {
            "l1i" => t.L1Instruction,
            "l1d" => t.L1Data,
            "l2" => t.L2,
            "walk_cache" => t.WalkCache,
            _ => t.IpaCache,
        };
    }

    private static string DefaultWays(SimulationConfig c, string s)
    {
        var t = Structure(c, s);
        return t.Ways == t.Entries ? "full" : t.Ways.ToString(CultureInfo.InvariantCulture);
    }

    internal static string ReplacementName(ReplacementPolicy p) => p switch
    {
        ReplacementPolicy.Lru => "lru",
        ReplacementPolicy.TreePlru => "plru",
        ReplacementPolicy.Random => "random",
        ReplacementPolicy.Clock => "clock",
        _ => "round-robin",
    };

    internal static ReplacementPolicy ParseReplacement(string name) => name switch
    {
        "lru" => ReplacementPolicy.Lru,
        "plru" => ReplacementPolicy.TreePlru,
        "random" => ReplacementPolicy.Random,
        "clock" => ReplacementPolicy.Clock,
        _ => ReplacementPolicy.RoundRobin,
    };

    private static string Snake(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            char ch = pascal[i];
            if (char.IsUpper(ch) && i > 0 && (char.IsLower(pascal[i - 1]) || (i + 1 < pascal.Length && char.IsLower(pascal[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }

    private static string? OneOf(string v, params string[] allowed)
    {
        string t = v.Trim().ToLowerInvariant();
        return Array.IndexOf(allowed, t) >= 0 ? t : null;
    }

    private static string? Integer(string v, long min, long max)
    {
        string t = v.Trim().Replace("_", "", StringComparison.Ordinal);
        long n;
        bool ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(t[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n)
            : long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out n);
        return ok && n >= min && n <= max ? n.ToString(CultureInfo.InvariantCulture) : null;
    }

    private static string? Boolean(string v) => v.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => "true",
        "false" or "no" or "off" or "0" => "false",
        _ => null,
    };

    private static string? Fraction(string v)
        => double.TryParse(v.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double f) && f is >= 0 and <= 1
            ? f.ToString("R", CultureInfo.InvariantCulture) : null;

    private static string? Granule(string v) => ByteSize.Parse(v) switch
    {
        4096 => "4k",
        16384 => "16k",
        65536 => "64k",
        _ => null,
    };

    private static string? PageSize(string v)
    {
        if (v.Trim().Equals("huge", StringComparison.OrdinalIgnoreCase)) return "huge";
        ulong? s = ByteSize.Parse(v);
        return s is { } b && b >= 4096 && (b & (b - 1)) == 0 ? ByteSize.Format(b) : null;
    }

    private static string? PhysicalMemory(string v)
    {
        ulong? s = ByteSize.Parse(v);
        return s is { } b && b >= 2UL << 20 && b % (2UL << 20) == 0 ? ByteSize.Format(b) : null;
    }
}
