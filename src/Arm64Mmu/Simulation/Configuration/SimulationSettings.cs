using System.Globalization;
using Arm64Mmu.Architecture;
using Arm64Mmu.Simulation.Paging;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Simulation.Configuration;

/// <summary>How PEs take turns (the <c>interleave</c> key).</summary>
internal enum InterleaveMode : byte { Auto, Instruction, Access }

/// <summary>
/// A configuration resolved for a number of traces: typed values, checked against each other and against the
/// architecture (granules the profile implements, block sizes the granule allows, address sizes, TLB shapes).
/// </summary>
internal sealed record SimulationSettings
{
    public const ulong TableRegionBytes = 1UL << 30;

    public required CoreProfile Profile { get; init; }
    public required ProcessorFeatures Features { get; init; }
    public required int Pes { get; init; }
    public required bool Processes { get; init; }
    public required InterleaveMode Interleave { get; init; }
    public required Granule Granule { get; init; }
    public required PagePolicy PageSize { get; init; }
    public required int VaBits { get; init; }
    public required bool Lpa2 { get; init; }
    public required int PaBits { get; init; }
    public required Granule? Stage2 { get; init; }
    public required PagePolicy Stage2PageSize { get; init; }
    public required int IpaBits { get; init; }
    public required int Stage2StartLevel { get; init; }
    public required AllocationPolicy Allocation { get; init; }
    public required double Fragmentation { get; init; }
    public required ulong PhysicalMemory { get; init; }
    public required ulong Seed { get; init; }

    /// <summary>DS = 1 (FEAT_LPA2 descriptors) for a granule.</summary>
    public bool Ds(Granule g) => Lpa2 && g != Granule.Size64K;

    /// <summary>The stage-1 geometry (output: IPA with stage 2, PA without).</summary>
    public TranslationGeometry Stage1Geometry => Geometries.Stage1(Granule, VaBits, Stage2 is null ? PaBits : IpaBits, Ds(Granule));

    /// <summary>The stage-2 geometry.</summary>
    public TranslationGeometry Stage2Geometry => Geometries.Stage2(Stage2!.Value, IpaBits, Stage2StartLevel, PaBits, Ds(Stage2.Value));

    public static SimulationSettings Resolve(SimulationConfig c, int traces)
    {
        var baseProfile = CoreProfile.FromName(c.Get("profile"))!;
        string pesText = c.Get("pes");
        int pes = pesText == "auto" ? traces : Int(pesText);
        if (traces > 1 && pes != traces)
            throw new SimulationConfigException($"pes = {pes} with {traces} traces: give one trace per PE (pes = auto or {traces}), or one trace that every PE replays");

        bool lpa2 = c.Get("lpa2") == "true";
        var granule = GranuleOf(c.Get("granule"));
        int vaBits = Int(c.Get("va_bits"));
        int paBits = Int(c.Get("pa_bits"));
        if (paBits == 52 && !lpa2) throw new SimulationConfigException("pa_bits = 52 needs lpa2 = true (FEAT_LPA2, or FEAT_LPA with the 64k granule); allowed without it: 32, 36, 40, 42, 44, 48");
        if (vaBits is > 48 and not 52) throw new SimulationConfigException($"va_bits = {vaBits}: allowed 25 to 48, or 52 with lpa2 = true");
        if (vaBits == 52 && !lpa2) throw new SimulationConfigException("va_bits = 52 needs lpa2 = true (FEAT_LPA2 with 4k/16k, FEAT_LVA with 64k)");

        var features = baseProfile.Features with { PaRangeBits = paBits };
        if (lpa2)
        {
            features = features with
            {
                TGran4 = Lift(features.TGran4), TGran16 = Lift(features.TGran16),
                TGran4Stage2 = Lift(features.TGran4Stage2), TGran16Stage2 = Lift(features.TGran16Stage2),
                Lva = true,
            };
        }
        CheckGranule(baseProfile, features, granule, false, "granule");

        string stage2Text = c.Get("stage2");
        Granule? stage2 = stage2Text == "off" ? null : GranuleOf(stage2Text);
        if (stage2 is { } g2) CheckGranule(baseProfile, features, g2, true, "stage2");
        if (stage2 is null && c.IsSet("stage2_page_size"))
            throw new SimulationConfigException("stage2_page_size is set but stage2 = off; set stage2 = 4k, 16k or 64k");
        int ipaBits = Int(c.Get("ipa_bits"));
        if (stage2 is not null && ipaBits > paBits)
            throw new SimulationConfigException($"ipa_bits = {ipaBits} exceeds pa_bits = {paBits}; allowed 32 to {paBits}");

        TranslationGeometry s1;
        try
        {
            s1 = Geometries.Stage1(granule, vaBits, stage2 is null ? paBits : ipaBits, lpa2 && granule != Granule.Size64K);
        }
        catch (ArgumentException e)
        {
            throw new SimulationConfigException($"va_bits = {vaBits} with granule = {c.Get("granule")}: {e.Message.Split(" (Parameter")[0]}");
        }
        var pageSize = Policy(c.Get("page_size"), s1, "page_size", c.Get("granule"));

        int s2Start = 0;
        var s2PageSize = default(PagePolicy);
        if (stage2 is { } sg)
        {
            s2Start = FindStage2StartLevel(sg, ipaBits, lpa2 && sg != Granule.Size64K)
                ?? throw new SimulationConfigException($"ipa_bits = {ipaBits} cannot be walked with the {c.Get("stage2")} stage-2 granule; allowed 32 to {paBits}");
            var s2 = Geometries.Stage2(sg, ipaBits, s2Start, paBits, lpa2 && sg != Granule.Size64K);
            s2PageSize = Policy(c.Get("stage2_page_size"), s2, "stage2_page_size", c.Get("stage2"));
        }

        ulong physMem = ByteSize.Parse(c.Get("phys_mem"))!.Value;
        ulong paLimit = (1UL << paBits) - 2 * TableRegionBytes;
        if (paBits < 32 || physMem > paLimit)
            throw new SimulationConfigException($"phys_mem = {c.Get("phys_mem")} does not fit the {paBits}-bit physical address space with its two 1g table regions; allowed up to {ByteSize.Format(paLimit)}");
        if (stage2 is not null && physMem > (1UL << ipaBits) - TableRegionBytes)
            throw new SimulationConfigException($"phys_mem = {c.Get("phys_mem")} does not fit the {ipaBits}-bit guest IPA space with its 1g table region; allowed up to {ByteSize.Format((1UL << ipaBits) - TableRegionBytes)}");

        var profile = baseProfile with
        {
            Tlbs = baseProfile.Tlbs with
            {
                L1Instruction = Structure(c, "l1i"),
                L1Data = Structure(c, "l1d"),
                L2 = Structure(c, "l2"),
                WalkCache = Structure(c, "walk_cache"),
                IpaCache = Structure(c, "ipa_cache"),
            },
            Features = features,
        };
        // CoreProfile is a record of init-only figures: set each cost.* key on the copy made above.
        foreach (var (property, key) in ConfigKeys.CostKeys) property.SetValue(profile, Int(c.Get(key)));
        try
        {
            profile.Validate();
        }
        catch (ConfigurationException e)
        {
            throw new SimulationConfigException($"the core profile does not validate: {e.Message}");
        }

        return new SimulationSettings
        {
            Profile = profile,
            Features = features,
            Pes = pes,
            Processes = c.Get("sharing") == "processes",
            Interleave = c.Get("interleave") switch { "instruction" => InterleaveMode.Instruction, "access" => InterleaveMode.Access, _ => InterleaveMode.Auto },
            Granule = granule,
            PageSize = pageSize,
            VaBits = vaBits,
            Lpa2 = lpa2,
            PaBits = paBits,
            Stage2 = stage2,
            Stage2PageSize = s2PageSize,
            IpaBits = ipaBits,
            Stage2StartLevel = s2Start,
            Allocation = c.Get("phys_alloc") switch { "random" => AllocationPolicy.Random, "fragmented" => AllocationPolicy.Fragmented, _ => AllocationPolicy.Contiguous },
            Fragmentation = double.Parse(c.Get("fragmentation"), CultureInfo.InvariantCulture),
            PhysicalMemory = physMem,
            Seed = ulong.Parse(c.Get("seed"), CultureInfo.InvariantCulture),
        };
    }

    private static GranuleSupport Lift(GranuleSupport s) => s == GranuleSupport.None ? s : GranuleSupport.Supported52Bit;

    private static void CheckGranule(CoreProfile profile, ProcessorFeatures f, Granule g, bool stage2, string key)
    {
        if (f.Support(g, stage2) != GranuleSupport.None) return;
        throw new SimulationConfigException($"{key} = {ByteSize.Format(g.Bytes())}: the {profile.Name} profile does not implement the {ByteSize.Format(g.Bytes())} granule{(stage2 ? " at stage 2" : "")} (ID_AA64MMFR0_EL1.TGran{g.Bytes() / 1024}{(stage2 ? "_2" : "")}); allowed {string.Join(", ", new[] { Granule.Size4K, Granule.Size16K, Granule.Size64K }.Where(x => f.Support(x, stage2) != GranuleSupport.None).Select(x => ByteSize.Format(x.Bytes())))}");
    }

    // The start level with the fewest levels that resolves the IPA size (up to 16 concatenated initial tables).
    private static int? FindStage2StartLevel(Granule g, int ipaBits, bool ds)
    {
        for (int level = 3; level >= (ds ? -1 : 0); level--)
        {
            int gb = (int)g, s = gb - 3, lv = 3 - level;
            if (ipaBits >= lv * s + gb + 1 && ipaBits <= lv * s + gb + s + 4) return level;
        }
        return null;
    }

    private static PagePolicy Policy(string text, TranslationGeometry g, string key, string granuleText)
    {
        int blockLevel2Shift = g.LevelShift(2);
        if (text == "huge")
        {
            if (!g.BlockAllowed(2) || g.StartLevel > 2)
                throw new SimulationConfigException($"{key} = huge needs level-2 blocks, which this geometry ({g}) does not have");
            return new PagePolicy(g.GranuleBits, true, blockLevel2Shift);
        }
        int shift = System.Numerics.BitOperations.Log2(ByteSize.Parse(text)!.Value);
        var allowed = new List<int> { g.GranuleBits };
        for (int l = 2; l >= Math.Max(g.StartLevel, -1); l--) if (g.BlockAllowed(l)) allowed.Add(g.LevelShift(l));
        if (!allowed.Contains(shift))
            throw new SimulationConfigException($"{key} = {text} is not a leaf size of the {granuleText} granule here ({g}); allowed {string.Join(", ", allowed.Select(ByteSize.FormatShift))} or huge");
        return new PagePolicy(shift, false, shift);
    }

    private static TlbConfiguration Structure(SimulationConfig c, string s)
    {
        int entries = Int(c.Get($"{s}.entries"));
        var policy = ConfigKeys.ParseReplacement(c.Get($"{s}.replacement"));
        if (entries == 0) return TlbConfiguration.None;
        string waysText = c.Get($"{s}.ways");
        int ways = waysText == "full" ? entries : Int(waysText);
        var allowedWays = Enumerable.Range(1, entries).Where(w => entries % w == 0 && System.Numerics.BitOperations.IsPow2(entries / w)
            && (policy != ReplacementPolicy.TreePlru || System.Numerics.BitOperations.IsPow2(w))).ToArray();
        if (!allowedWays.Contains(ways))
            throw new SimulationConfigException($"{s}.ways = {waysText} with {s}.entries = {entries}{(policy == ReplacementPolicy.TreePlru ? " and plru" : "")}: the sets (entries / ways) must be a power of two{(policy == ReplacementPolicy.TreePlru ? " and plru needs power-of-two ways" : "")}; allowed full or {string.Join(", ", allowedWays.Take(24))}{(allowedWays.Length > 24 ? ", …" : "")}");
        return new TlbConfiguration(entries, ways, policy);
    }

    private static Granule GranuleOf(string text) => text switch { "16k" => Granule.Size16K, "64k" => Granule.Size64K, _ => Granule.Size4K };
    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
