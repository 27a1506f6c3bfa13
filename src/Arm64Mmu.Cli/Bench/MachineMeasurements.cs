using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Memory;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// The machine figures that fit a timed batch (the same scenarios as benchmarks/Arm64Mmu.Benchmarks/MachineBenchmarks.cs):
/// a load's translation from the L1 and from the L2 TLB, and TLBI VAE1IS + DSB ISH on 64 PEs with full TLBs for pages no
/// PE holds (so every PE's structures are probed).
/// </summary>
internal static class MachineMeasurements
{
    /// <summary>VA of the first page of the linear mapping the set-ups build.</summary>
    public static readonly VirtualAddress VaBase = new(0x10_0000_0000UL);

    /// <summary>The batch-timed machine figures.</summary>
    public static IEnumerable<QuickMeasurement> All { get; } =
    [
        new("translate.l1hit", "ns", () => TranslateLoop(pages: 32, first: 0)),
        new("translate.l2hit", "ns", () => TranslateLoop(pages: 512, first: 256)),
        new("tlbi.vae1is.dsb.64pe", "ns", Shootdown),
    ];

    /// <summary>PEs of neoverse-n1 at EL1 with <paramref name="pages"/> 4 KiB pages mapped from <see cref="VaBase"/>.</summary>
    public static ProcessingElement[] Create(int pes, ulong pages)
        => MachineSetups.CreateWithLinearMapping(pes, CoreProfile.NeoverseN1, pages * 0x1000).Machine.ProcessingElements.ToArray();

    /// <summary>Loads one word from each of <paramref name="count"/> pages from page <paramref name="first"/> (fills the TLBs).</summary>
    public static void Touch(ProcessingElement pe, int first, int count)
    {
        for (int i = 0; i < count; i++) pe.Load(VaBase + (ulong)(first + i) * 0x1000, 8);
    }

    // Translations cycling over a power-of-two set of pages: 32 stay in the L1 D-TLB, 512 overflow it into the L2.
    private static Func<int, ulong> TranslateLoop(int pages, int first)
    {
        var pe = Create(1, 1024)[0];
        var vas = Enumerable.Range(0, pages).Select(i => VaBase + (ulong)(first + (i * 37 % pages)) * 0x1000 + 0x40).ToArray();
        if (first > 0) Touch(pe, first, pages);
        Touch(pe, 0, 32);
        int mask = pages - 1;
        return n =>
        {
            ulong sum = 0;
            for (int i = 0; i < n; i++) sum += pe.Translate(vas[i & mask], AccessKind.Read).PhysicalAddress.Value;
            return sum;
        };
    }

    private static Func<int, ulong> Shootdown()
    {
        var pes = Create(64, 4096);
        foreach (var pe in pes) Touch(pe, 0, 2048);
        int next = 0;
        return n =>
        {
            for (int i = 0; i < n; i++)
            {
                var va = VaBase + (ulong)(2048 + (next++ & 2047)) * 0x1000;
                pes[0].Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(va, asid: 1));
                pes[0].Dsb(DsbOption.Ish);
            }
            return (ulong)next;
        };
    }
}
