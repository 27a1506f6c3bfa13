using Arm64Mmu.Architecture;
using Arm64Mmu.Translation;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Translation;

/// <summary>
/// Property tests: for random granules, input sizes and page/block mappings built with TableBuilder, every mapped
/// address translates to its output address with the offset preserved, and every unmapped address takes a
/// Translation fault — at stage 1, at stage 2, and nested.
/// </summary>
public class TranslationProperties
{
    private static readonly Config Runs = PropertyConfig.Runs(150);

    /// <summary>Counts what a property actually checked, so that a generator change cannot make it vacuous.</summary>
    private sealed class Coverage
    {
        public int Cases, Mapped, Unmapped, Stage2Faults;

        public void ShouldHaveExercised()
        {
            Cases.Should().BeGreaterThanOrEqualTo(100);
            Mapped.Should().BeGreaterThan(Cases * 2, "most generated mappings are placed");
            Unmapped.Should().BeGreaterThan(Cases * 4, "most probes miss the mappings");
        }
    }

    // ---- generators ----

    private static readonly Gen<ulong> AnyULong =
        from a in Gen.Choose(0, 0xFFFF)
        from b in Gen.Choose(0, 0xFFFF)
        from c in Gen.Choose(0, 0xFFFF)
        from d in Gen.Choose(0, 0xFFFF)
        select (ulong)(uint)a << 48 | (ulong)(uint)b << 32 | (ulong)(uint)c << 16 | (uint)d;

    private static readonly Gen<Granule> AnyGranule = Gen.Elements(Granule.Size4K, Granule.Size16K, Granule.Size64K);

    /// <summary>A raw mapping request: which legal leaf level, and random bits for the input, output and probe offsets.</summary>
    public sealed record RawMapping(int LevelPick, ulong Input, ulong Output, ulong Offset);

    private static readonly Gen<RawMapping> AnyRawMapping =
        from level in Gen.Choose(0, 99)
        from input in AnyULong
        from output in AnyULong
        from offset in AnyULong
        select new RawMapping(level, input, output, offset);

    private static readonly Gen<RawMapping[]> SomeMappings =
        from n in Gen.Choose(1, 12)
        from maps in AnyRawMapping.ArrayOf(n)
        select maps;

    private static readonly Gen<ulong[]> SomeProbes = AnyULong.ArrayOf(8);

    /// <summary>A concrete leaf: input, output and size.</summary>
    public readonly record struct Leaf(ulong Input, ulong Output, int Level, int Shift)
    {
        public ulong Size => 1UL << Shift;
        public bool Contains(ulong a) => a >= Input && a - Input < Size;
        public bool Overlaps(ulong input, ulong size) => input < Input + Size && Input < input + size;
        public override string ToString() => $"L{Level} 0x{Input:x}->0x{Output:x} (2^{Shift})";
    }

    /// <summary>Turns raw requests into non-overlapping aligned leaves at levels the geometry allows.</summary>
    private static List<Leaf> Place(TranslationGeometry geo, IEnumerable<RawMapping> raw, int oaBits, Func<int, bool>? levelFilter = null,
        ulong outputBase = 0, ulong outputSpan = 0)
    {
        var legal = Enumerable.Range(geo.StartLevel, 4 - geo.StartLevel)
            .Where(l => (l == 3 || geo.BlockAllowed(l)) && (levelFilter?.Invoke(l) ?? true)).ToArray();
        var leaves = new List<Leaf>();
        foreach (var m in raw)
        {
            int level = legal[m.LevelPick % legal.Length];
            int shift = geo.LevelShift(level);
            ulong size = 1UL << shift;
            ulong input = m.Input & ((1UL << geo.InputBits) - 1) & ~(size - 1);
            ulong output = outputSpan == 0
                ? m.Output & ((1UL << oaBits) - 1) & ~(size - 1)
                : outputBase + (m.Output % (outputSpan / size)) * size;
            if (leaves.Any(x => x.Overlaps(input, size))) continue;
            leaves.Add(new Leaf(input, output, level, shift));
        }
        return leaves;
    }

    // ---- stage 1 ----

    /// <summary>A stage-1 configuration: granule, VA size, DS.</summary>
    public sealed record Stage1Case(Granule G, int VaBits, bool Ds, RawMapping[] Maps, ulong[] Probes)
    {
        public override string ToString() => $"{G.Name()} {VaBits}-bit VA DS={(Ds ? 1 : 0)}, {Maps.Length} mappings, probes [{string.Join(", ", Probes.Select(p => $"0x{p:x}"))}], maps [{string.Join("; ", Maps)}]";
    }

    private static readonly Gen<Stage1Case> AnyStage1Case =
        from g in AnyGranule
        from dsPick in Gen.Choose(0, 3)
        let ds = g != Granule.Size64K && dsPick == 0
        from vaBits in Gen.Choose(g == Granule.Size64K ? 17 : 16, ds || g == Granule.Size64K ? 52 : 48) // FEAT_TTST, LVA, LPA2
        from maps in SomeMappings
        from probes in SomeProbes
        select new Stage1Case(g, vaBits, ds, maps, probes);

    [Fact]
    public void Stage1MappedAddressesTranslateAndUnmappedAddressesFault()
    {
        var seen = new Coverage();
        Check.One(Runs, Prop.ForAll(Arb.From(AnyStage1Case), (Stage1Case c) =>
        {
            seen.Cases++;
            bool oa52 = c.Ds || c.G == Granule.Size64K;
            var rig = new Stage1Rig(c.G, c.VaBits, c.Ds, ipsBits: oa52 ? 52 : 48);
            var geo = rig.Tables.Geometry;
            var leaves = Place(geo, c.Maps, oa52 ? 52 : 48);
            foreach (var l in leaves) rig.Map(l.Input, l.Output, l.Level, rig.Leaf(l.Level));

            foreach (var l in leaves)
            {
                seen.Mapped++;
                ulong va = l.Input + (c.Maps[0].Offset & (l.Size - 1));
                var r = rig.Walk(AtOperation.S1E1R, va);
                if (!r.Succeeded) throw new Exception($"{l}: VA 0x{va:x} faulted: {r.Fault}");
                if (r.OutputAddress != l.Output + (va - l.Input)) throw new Exception($"{l}: VA 0x{va:x} gave 0x{r.OutputAddress:x}");
                if (r.Level != l.Level || r.Stage1Reads != l.Level - geo.StartLevel + 1) throw new Exception($"{l}: level {r.Level}, {r.Stage1Reads} reads");
                var par = rig.At(AtOperation.S1E0R, va);
                if (!par.Faulted) throw new Exception($"{l}: EL0 read of an EL1-only page succeeded");
            }
            foreach (ulong p in c.Probes)
            {
                ulong va = p & ((1UL << c.VaBits) - 1);
                if (leaves.Any(l => l.Contains(va))) continue;
                seen.Unmapped++;
                var r = rig.Walk(AtOperation.S1E1R, va);
                if (r.Fault.Kind != FaultKind.Translation || r.Fault.Stage != 1 || r.Fault.Level < geo.StartLevel)
                    throw new Exception($"unmapped VA 0x{va:x}: {r.Fault}");
            }
            return true;
        }));
        seen.ShouldHaveExercised();
    }

    // ---- stage 2 ----

    /// <summary>A stage-2 configuration: granule, IPA size, start level (with concatenation), DS.</summary>
    public sealed record Stage2Case(Granule G, int IpaBits, int Start, bool Ds, RawMapping[] Maps, ulong[] Probes)
    {
        public override string ToString() => $"{G.Name()} {IpaBits}-bit IPA start L{Start} DS={(Ds ? 1 : 0)}, probes [{string.Join(", ", Probes.Select(p => $"0x{p:x}"))}], maps [{string.Join("; ", Maps)}]";
    }

    /// <summary>Stage-2 start levels that VTCR_EL2 can express for an IPA size (translation.md §3), on a QEMU-max PE.</summary>
    private static int[] Stage2Starts(Granule g, int ipaBits, bool ds)
    {
        int G = (int)g, S = G - 3;
        return Enumerable.Range(-1, 5).Where(start =>
        {
            int lv = 3 - start;
            if (ipaBits < lv * S + G + 1 || ipaBits > lv * S + G + S + 4) return false;
            return (g, start) switch
            {
                (Granule.Size4K, -1) => ds,
                (_, -1) => false,
                (Granule.Size16K, 0) => ds,
                (Granule.Size64K, 0) => false,
                _ => true,
            };
        }).ToArray();
    }

    private static readonly Gen<Stage2Case> AnyStage2Case =
        from g in AnyGranule
        from dsPick in Gen.Choose(0, 3)
        let ds = g != Granule.Size64K && dsPick == 0
        from ipaBits in Gen.Choose(g == Granule.Size64K ? 17 : 16, ds || g == Granule.Size64K ? 52 : 48)
        let starts = Stage2Starts(g, ipaBits, ds)
        from startPick in Gen.Choose(0, 7)
        from maps in SomeMappings
        from probes in SomeProbes
        select new Stage2Case(g, ipaBits, starts[startPick % starts.Length], ds, maps, probes);

    [Fact]
    public void Stage2MappedAddressesTranslateAndUnmappedAddressesFault()
    {
        var seen = new Coverage();
        Check.One(Runs, Prop.ForAll(Arb.From(AnyStage2Case), (Stage2Case c) =>
        {
            seen.Cases++;
            bool oa52 = c.Ds || c.G == Granule.Size64K;
            var rig = new Stage2Rig(c.G, c.IpaBits, c.Start, c.Ds, psBits: oa52 ? 52 : 48);
            var geo = rig.Tables.Geometry;
            var leaves = Place(geo, c.Maps, oa52 ? 52 : 48);
            foreach (var l in leaves) rig.Map(l.Input, l.Output, l.Level, rig.Leaf(l.Level));

            foreach (var l in leaves)
            {
                seen.Mapped++;
                ulong ipa = l.Input + (c.Maps[0].Offset & (l.Size - 1));
                var r = Walks.At(rig.Pe, AtOperation.S12E1R, ipa);
                if (!r.Succeeded) throw new Exception($"{l}: IPA 0x{ipa:x} faulted: {r.Fault}");
                if (r.OutputAddress != l.Output + (ipa - l.Input)) throw new Exception($"{l}: IPA 0x{ipa:x} gave 0x{r.OutputAddress:x}");
                if (r.Stage2Level != l.Level || r.Stage2Reads != l.Level - c.Start + 1) throw new Exception($"{l}: level {r.Stage2Level}, {r.Stage2Reads} reads");
            }
            foreach (ulong p in c.Probes)
            {
                ulong ipa = p & ((1UL << c.IpaBits) - 1);
                if (leaves.Any(l => l.Contains(ipa))) continue;
                seen.Unmapped++;
                var par = rig.At(AtOperation.S12E1R, ipa);
                var d = Fault.DecodeStatusCode(par.FaultStatus);
                if (!par.Faulted || !par.Stage2 || par.Ptw || d?.Kind != FaultKind.Translation) throw new Exception($"unmapped IPA 0x{ipa:x}: {par}");
            }
            return true;
        }));
        seen.ShouldHaveExercised();
    }

    // ---- nested ----

    /// <summary>Stage 1 under stage 2: stage 2 maps a 1 GiB IPA window with level-2 blocks and the stage-1 tables with pages.</summary>
    public sealed record NestedCase(Granule G1, int VaBits, Granule G2, int IpaBits, int S2Start, ulong WindowPa, RawMapping[] Maps, ulong[] Probes)
    {
        public override string ToString() => $"S1 {G1.Name()} {VaBits}-bit, S2 {G2.Name()} {IpaBits}-bit start L{S2Start}, window PA 0x{WindowPa:x}, probes [{string.Join(", ", Probes.Select(p => $"0x{p:x}"))}], maps [{string.Join("; ", Maps)}]";
    }

    private const ulong WindowIpa = 0x4000_0000UL, WindowSize = 0x4000_0000UL, UnmappedIpa = 0xC000_0000UL;

    private static readonly Gen<NestedCase> AnyNestedCase =
        from g1 in AnyGranule
        from vaBits in Gen.Choose(25, 48)
        from g2 in AnyGranule
        from ipaBits in Gen.Choose(33, 48)
        let starts = Stage2Starts(g2, ipaBits, false).Where(s => s <= 2).ToArray()
        where starts.Length > 0
        from startPick in Gen.Choose(0, 7)
        from window in Gen.Choose(1, 0xFFFF)
        from maps in SomeMappings
        from probes in SomeProbes
        select new NestedCase(g1, vaBits, g2, ipaBits, starts[startPick % starts.Length], (ulong)window << 30, maps, probes);

    [Fact]
    public void NestedMappedAddressesTranslateThroughBothStagesAndUnmappedAddressesFault()
    {
        var seen = new Coverage();
        Check.One(Runs.WithMaxTest(100), Prop.ForAll(Arb.From(AnyNestedCase), (NestedCase c) =>
        {
            seen.Cases++;
            var n = new NestedRig(c.G1, c.VaBits, c.G2, c.IpaBits, c.S2Start);
            var geo1 = n.S1.Geometry;
            // Stage-1 leaves output IPAs inside the window (so leaves of at most 512 MiB).
            var leaves = Place(geo1, c.Maps, 48, l => geo1.LevelShift(l) <= 29, WindowIpa, WindowSize);
            foreach (var l in leaves) n.S1.Map(new VirtualAddress(l.Input), new PhysicalAddress(l.Output), l.Level, n.S1Leaf(l.Level));
            // One more stage-1 page whose IPA stage 2 does not map.
            ulong page1 = c.G1.Bytes();
            ulong? stray = null;
            foreach (ulong p in c.Probes)
            {
                ulong va = p & ((1UL << c.VaBits) - 1) & ~(page1 - 1);
                if (leaves.Any(l => l.Overlaps(va, page1))) continue;
                n.S1.Map(new VirtualAddress(va), new PhysicalAddress(UnmappedIpa), 3, n.S1Leaf(3));
                stray = va;
                break;
            }
            n.MapStage1Tables();
            int s2Shift = n.S2.Geometry.LevelShift(2);
            n.S2.MapRange(new IntermediatePhysicalAddress(WindowIpa), new PhysicalAddress(c.WindowPa), WindowSize, 2, n.S2Leaf(2));
            int s2Levels = 4 - c.S2Start;

            foreach (var l in leaves)
            {
                seen.Mapped++;
                ulong va = l.Input + (c.Maps[0].Offset & (l.Size - 1));
                var r = n.Walk(AtOperation.S12E1R, va);
                if (!r.Succeeded) throw new Exception($"{l}: VA 0x{va:x} faulted: {r.Fault}");
                ulong ipa = l.Output + (va - l.Input);
                if (r.IntermediateAddress != ipa) throw new Exception($"{l}: IPA 0x{r.IntermediateAddress:x}, expected 0x{ipa:x}");
                if (r.OutputAddress != c.WindowPa + (ipa - WindowIpa)) throw new Exception($"{l}: PA 0x{r.OutputAddress:x}");
                // Each stage-1 read costs a full stage-2 walk to a page; the final IPA a stage-2 walk to a level-2 block.
                int s1Reads = l.Level - geo1.StartLevel + 1;
                if (r.Stage1Reads != s1Reads || r.Stage2Reads != s1Reads * s2Levels + (2 - c.S2Start + 1))
                    throw new Exception($"{l}: {r.Stage1Reads} + {r.Stage2Reads} reads with 2^{s2Shift} stage-2 blocks");
            }
            if (stray is { } sv)
            {
                var par = n.At(AtOperation.S12E1R, sv);
                if (!par.Faulted || !par.Stage2 || par.Ptw) throw new Exception($"VA 0x{sv:x} to an unmapped IPA: {par}");
                seen.Stage2Faults++;
            }
            foreach (ulong p in c.Probes)
            {
                ulong va = p & ((1UL << c.VaBits) - 1);
                if (leaves.Any(l => l.Contains(va)) || (stray is { } s && va - s < page1)) continue;
                seen.Unmapped++;
                var r = n.Walk(AtOperation.S12E1R, va);
                if (r.Fault.Kind != FaultKind.Translation || r.Fault.Stage != 1) throw new Exception($"unmapped VA 0x{va:x}: {r.Fault}");
            }
            return true;
        }));
        seen.ShouldHaveExercised();
        seen.Stage2Faults.Should().BeGreaterThan(seen.Cases / 2, "most cases have a stage-1 page whose IPA stage 2 leaves unmapped");
    }
}
