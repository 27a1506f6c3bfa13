using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;
using Arm64Mmu.Translation;

namespace Arm64Mmu.Cli.Conformance;

/// <summary>Answers the queries of conformance cases with the library's AT implementation.</summary>
public static class ConformanceRunner
{
    /// <summary>Mask for fault results: F, FST, PTW, S (FORMAT.md).</summary>
    public const ulong MaskFault = 0x000000000000037FUL;
    /// <summary>Mask for Normal cacheable results: F, SH, PA, ATTR.</summary>
    public const ulong MaskOk = 0xFF0FFFFFFFFFF181UL;
    /// <summary>Mask for Device and Normal iNC/oNC results: F, PA, ATTR.</summary>
    public const ulong MaskOkNoSh = 0xFF0FFFFFFFFFF001UL;

    /// <summary>The comparison mask FORMAT.md defines for an expected PAR.</summary>
    public static ulong DefaultMask(ulong expected)
    {
        if ((expected & 1) != 0) return MaskFault;
        ulong attr = expected >> 56;
        return (attr & 0xF0) != 0 && attr != 0x44 ? MaskOk : MaskOkNoSh;
    }

    /// <summary>Loads a case into a fresh memory and translator.</summary>
    public static AddressTranslator Prepare(VectorCase c, ProcessorFeatures features)
    {
        var mem = new PhysicalMemory();
        foreach (var run in c.Memory) mem.WriteUInt64s(new PhysicalAddress(run.Pa), run.Qwords);
        var t = new AddressTranslator(mem, features, ConfigurationPolicy.Architectural);
        foreach (var (reg, value) in c.Registers) t.Registers[reg] = value;
        return t;
    }

    /// <summary>The PAR_EL1 value for every query of a case, in order.</summary>
    public static ulong[] Run(VectorCase c, ProcessorFeatures features)
    {
        var t = Prepare(c, features);
        var pars = new ulong[c.Queries.Count];
        for (int i = 0; i < pars.Length; i++) pars[i] = t.At(c.Queries[i].Op, new VirtualAddress(c.Queries[i].Va)).Value;
        return pars;
    }

    /// <summary>True when an answer matches the expected value under the query's mask.</summary>
    public static bool Matches(VectorQuery q, ulong got)
    {
        if (q.Par is not { } exp) return true;
        ulong mask = q.Mask ?? DefaultMask(exp);
        return (got & mask) == (exp & mask);
    }
}
