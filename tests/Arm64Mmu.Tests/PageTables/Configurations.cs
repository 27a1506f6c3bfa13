using Arm64Mmu.Architecture;

namespace Arm64Mmu.Tests.PageTables;

/// <summary>Named test configurations: a rig and an input/output base aligned for the largest blocks used.</summary>
internal static class Configurations
{
    public static readonly string[] Names =
    [
        "el10-4k-48", "el10-16k-47", "el10-64k-48", "el10-4k-52-lpa2", "el10-16k-52-lpa2", "el10-64k-52-lpa",
        "el10-4k-39", "el10-4k-48-ttbr1", "el2-4k-48", "el2-16k-48", "s2-4k-40", "s2-4k-52-lpa2", "s2-64k-42", "s2-16k-48",
    ];

    /// <summary>The rig, the input base, the output base and the block level used (the lowest level with blocks of a sensible size).</summary>
    public static (Rig Rig, ulong Input, ulong Output, int BlockLevel) Create(string name) => name switch
    {
        "el10-4k-48" => (Rig.El10(Granule.Size4K, 48), 0x0000_7F12_3400_0000UL, 0x0000_0008_8000_0000UL, 2),
        "el10-16k-47" => (Rig.El10(Granule.Size16K, 47), 0x0000_4567_8000_0000UL, 0x0000_0001_0000_0000UL, 2),
        "el10-64k-48" => (Rig.El10(Granule.Size64K, 48), 0x0000_7000_0000_0000UL, 0x0000_0040_0000_0000UL, 2),
        "el10-4k-52-lpa2" => (Rig.El10(Granule.Size4K, 52, ds: true), 0x000F_1234_4000_0000UL, 0x000A_BCDE_0000_0000UL, 2),
        "el10-16k-52-lpa2" => (Rig.El10(Granule.Size16K, 52, ds: true), 0x000F_0000_0000_0000UL, 0x000A_0000_0000_0000UL, 2),
        "el10-64k-52-lpa" => (Rig.El10(Granule.Size64K, 52, oaBits: 52), 0x000F_0000_0000_0000UL, 0x000B_0000_0000_0000UL, 2),
        "el10-4k-39" => (Rig.El10(Granule.Size4K, 39, asid: 300), 0x0000_0040_0000_0000UL, 0x0000_0000_8000_0000UL, 2),
        "el10-4k-48-ttbr1" => (Rig.El10(Granule.Size4K, 48, asid: null, upper: true), 0xFFFF_8000_1000_0000UL, 0x0000_0000_4000_0000UL, 2),
        "el2-4k-48" => (Rig.El2(Granule.Size4K, 48), 0x0000_0080_0000_0000UL, 0x0000_0000_8000_0000UL, 2),
        "el2-16k-48" => (Rig.El2(Granule.Size16K, 48), 0x0000_0080_0000_0000UL, 0x0000_0000_8000_0000UL, 2),
        "s2-4k-40" => (Rig.Stage2(Granule.Size4K, 40, 1), 0x0000_0040_0000_0000UL, 0x0000_0001_0000_0000UL, 2),
        "s2-4k-52-lpa2" => (Rig.Stage2(Granule.Size4K, 52, -1, ds: true), 0x000F_0000_0000_0000UL, 0x0008_0000_0000_0000UL, 2),
        "s2-64k-42" => (Rig.Stage2(Granule.Size64K, 42, 2), 0x0000_0200_0000_0000UL, 0x0000_0010_0000_0000UL, 2),
        "s2-16k-48" => (Rig.Stage2(Granule.Size16K, 48, 1), 0x0000_1000_0000_0000UL, 0x0000_0002_0000_0000UL, 2),
        _ => throw new ArgumentException($"unknown configuration {name}"),
    };

    public static TheoryData<string> All()
    {
        var d = new TheoryData<string>();
        foreach (var n in Names) d.Add(n);
        return d;
    }
}
