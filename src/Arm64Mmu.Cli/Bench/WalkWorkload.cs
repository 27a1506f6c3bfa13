using Arm64Mmu.Setups;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.PageTables;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli.Bench;

/// <summary>
/// A full translation table walk with no TLB, ready to repeat: the walker and the regimes are taken from the
/// <see cref="AddressTranslator"/> once, so a walk measured is the walk alone (no register decoding, no regime
/// lookup). Shared by <c>arm64mmu bench</c> and the BenchmarkDotNet <c>WalkBenchmarks</c> (linked source).
/// </summary>
internal sealed class WalkWorkload
{
    private readonly Walker _walker;
    private readonly TranslationRegime _regime;
    private readonly Stage2Regime _stage2;
    private readonly VirtualAddress[] _vas;
    private readonly int _vaMask;
    private readonly AccessRequest _access;
    private readonly bool _applyStage2;
    private int _next;

    /// <summary>Descriptor reads of one walk (both stages), checked when the workload is built.</summary>
    public int DescriptorReads { get; }

    /// <summary>What is walked.</summary>
    public string Description { get; }

    private WalkWorkload(AddressTranslator t, AtOperation op, VirtualAddress[] vas, PhysicalAddress[] expected, string description)
    {
        if (vas.Length == 0 || (vas.Length & (vas.Length - 1)) != 0) throw new ArgumentException("the VA count must be a power of two", nameof(vas));
        _walker = t.Walker;
        _regime = t.El10Regime;
        _stage2 = _regime.Kind == Regime.El10 ? t.Stage2 : Stage2Regime.Disabled;
        _vas = vas;
        _vaMask = vas.Length - 1;
        _access = op.Access();
        _applyStage2 = op.IsStage12();
        Description = description;
        for (int i = 0; i < vas.Length; i++)
        {
            WalkResult r = default;
            _walker.Translate(_regime, _stage2, vas[i], _access, _applyStage2, ref r);
            if (!r.Succeeded || r.PhysicalAddress != expected[i])
                throw new InvalidOperationException($"{description}: VA {vas[i]} gave {r.Fault}, output {r.PhysicalAddress}; expected {expected[i]}");
            if (i == 0) DescriptorReads = r.DescriptorReads;
            else if (r.DescriptorReads != DescriptorReads) throw new InvalidOperationException($"{description}: walks differ in descriptor reads");
        }
    }

    /// <summary>The walk of a built-in example (<see cref="ExampleSetups"/>), one VA walked again and again.</summary>
    public static WalkWorkload Example(string name)
    {
        var s = ExampleSetups.Create(name);
        return new WalkWorkload(s.Translator, s.Operation, [s.VirtualAddress], [s.ExpectedOutput], $"example {name}: {s.Description}");
    }

    /// <summary>
    /// Stage 1, 4K granule, 48-bit VA, walked for <paramref name="count"/> VAs in turn, each in its own 1 GiB and
    /// 2 MiB region: every walk reads a different level-2 and level-3 table from the walk before it (the case where
    /// the walker's per-level frame cache always misses below level 1).
    /// </summary>
    public static WalkWorkload Scattered(int count)
    {
        var mem = new PhysicalMemory();
        var geo = Geometries.Stage1(Granule.Size4K, 48);
        var b = new TableBuilder(new TableAllocator(mem, new PhysicalAddress(0x4000_0000UL), 0x0100_0000UL), geo);
        var vas = new VirtualAddress[count];
        var expected = new PhysicalAddress[count];
        for (int i = 0; i < count; i++)
        {
            var page = new VirtualAddress(0x0000_4000_0000_0000UL + (ulong)i * ((1UL << 30) + (1UL << 21) + (1UL << 12)));
            var oa = new PhysicalAddress(0x0000_0080_0000_0000UL + (ulong)i * 0x1000);
            b.Map(page, oa, 3, Descriptor.Stage1Leaf(0, page: true, attrIndx: 1));
            vas[i] = page + 0x123;
            expected[i] = oa + 0x123;
        }
        var t = new AddressTranslator(mem, ProcessorFeatures.QemuMax);
        t.Registers.TcrEl1 = new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb().WithEpd(false, true).WithTg1(Granule.Size4K).WithT1sz(25);
        t.Registers.MairEl1 = Mair.FromAttributes(0x00, 0xFF, 0x44);
        t.Registers.Ttbr0El1 = Ttbr.Create(b.Root, asid: 1);
        t.Registers.SctlrEl1 = new Sctlr(0x30D0_1805UL); // M, C, I and RES1 bits
        return new WalkWorkload(t, AtOperation.S1E1R, vas, expected, $"{count} VAs in distinct level-2 and level-3 tables, 4K granule, 48-bit");
    }

    /// <summary>One full walk (the next VA in turn); returns the output address so the work cannot be discarded.</summary>
    public ulong Walk()
    {
        WalkResult r = default;
        var va = _vas[_next++ & _vaMask];
        _walker.Translate(_regime, _stage2, va, _access, _applyStage2, ref r);
        return r.PhysicalAddress.Value;
    }

    /// <summary><paramref name="n"/> walks; returns the sum of the output addresses.</summary>
    public ulong Walk(int n)
    {
        ulong sum = 0;
        for (int i = 0; i < n; i++) sum += Walk();
        return sum;
    }
}
