using System.Runtime.CompilerServices;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Translation;

public sealed partial class Walker
{
    private static string Describe(AccessRequest a)
        => $"{(a.Unprivileged ? "an unprivileged" : "a privileged")} {a.Kind.ToString().ToLowerInvariant()}{(a.Pan ? " with PSTATE.PAN=1" : "")}";

    /// <summary>
    /// The explanations a traced walk records. Each is formatted here, out of line, so the walk methods carry no
    /// interpolated-string state; they run only when a <see cref="WalkTrace"/> was passed.
    /// </summary>
    private static class Notes
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Step(WalkTrace t, int stage, int level, ulong table, ulong index, ulong descAddr, ulong descPa, ulong desc,
            byte blockLevels, bool forStage1Table)
            => t.Steps.Add(new WalkStep(stage, level, table, index, descAddr, descPa, desc, Classify(desc, level, blockLevels), forStage1Table));

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2OutputPermission(WalkTrace t, AccessRequest a, ulong desc)
            => t.Notes.Add($"stage 2 does not permit {Describe(a)} (S2AP/XN of 0x{desc:x16})");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage1DisabledAddressSize(WalkTrace t, int top, int pa)
            => t.Notes.Add($"stage 1 is disabled and VA bits [{top}:{pa}] are not zero (PAMax {pa} bits): address size fault");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void VaOutOfRange(WalkTrace t, int top, int ia, ulong select)
            => t.Notes.Add($"VA bits [{top}:{ia}] must all be {select} for the TTBR{select} region ({ia}-bit input): translation fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void E0pd(WalkTrace t, ulong select)
            => t.Notes.Add($"E0PD{select}=1: EL0 accesses to this region fault: translation fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void BaseOutOfRange(WalkTrace t, ulong tableBase, int outputBits)
            => t.Notes.Add($"table base 0x{tableBase:x} is beyond the {outputBits}-bit output size: address size fault, level 0");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2FaultOnTableRead(WalkTrace t, int level, ulong descAddr)
            => t.Notes.Add($"stage-2 fault while reading the stage-1 level {level} descriptor at IPA 0x{descAddr:x}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage2DeniesTableRead(WalkTrace t, ulong descAddr)
            => t.Notes.Add($"stage 2 does not permit the stage-1 table read at IPA 0x{descAddr:x}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void InvalidDescriptor(WalkTrace t, ulong desc, int level, Granule granule)
            => t.Notes.Add(Descriptor.TypeAt(desc, level) == DescriptorType.Block
                ? $"a block descriptor is not allowed at level {level} with the {granule.Name()} granule: translation fault"
                : $"invalid descriptor at level {level}: translation fault");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void TableAddressSize(WalkTrace t, ulong next, int outputBits, int level)
            => t.Notes.Add($"next-level table address 0x{next:x} is beyond the {outputBits}-bit output size: address size fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void OutputAddressSize(WalkTrace t, ulong oa, int outputBits, int level)
            => t.Notes.Add($"output address 0x{oa:x} is beyond the {outputBits}-bit output size: address size fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void AccessFlag(WalkTrace t, int level)
            => t.Notes.Add($"AF=0 and hardware Access flag management is off: access flag fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Stage1Permission(WalkTrace t, AccessRequest a, int level)
            => t.Notes.Add($"stage 1 does not permit {Describe(a)}: permission fault, level {level}");

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void IpaOutOfRange(WalkTrace t, ulong ipa, int inputBits)
            => t.Notes.Add($"IPA 0x{ipa:x} is beyond the {inputBits}-bit stage-2 input size: stage-2 translation fault, level 0");
    }
}
