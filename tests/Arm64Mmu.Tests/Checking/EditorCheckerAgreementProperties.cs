using Arm64Mmu.Architecture;
using Arm64Mmu.Checking;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// The page-table editor and the break-before-make checker answer "in place or break?" with one rule
/// (<see cref="BreakBeforeMakePolicy"/>), so for every policy and any pair of valid descriptors: whatever the editor
/// writes in place the checker allows, and whatever the checker flags when written in place, the editor breaks.
/// The editor's sequence (<see cref="MaintenanceSequence.Build"/>) runs on a PE the checker observes while another PE
/// has the tables live; the checker judges the stores independently (its own reverse map, registers, FEAT_BBM level
/// and MAIR).
/// </summary>
public class EditorCheckerAgreementProperties
{
    private static readonly VirtualAddress Va = new(0x0000_0040_0000_0000UL);           // L0 0, L1 256: aligned for a 1 GiB block
    private const ulong OutputA = 0x0000_0000_C000_0000UL;      // 1 GiB aligned
    private const ulong OutputB = 0x0000_0001_0000_0000UL;

    // Linux's MAIR (MT_NORMAL 0xFF, MT_NORMAL_TAGGED 0xF0, MT_NORMAL_NC 0x44, Device nGnRnE, nGnRE) and one whose
    // indices 0 and 1 name Device and Normal memory, with two equal Normal attributes at 2 and 3.
    private static readonly Mair[] Mairs = [Mair.FromAttributes(0xFF, 0xF0, 0x44, 0x00, 0x04), Mair.FromAttributes(0x00, 0xFF, 0x44, 0x44, 0xFF)];

    /// <summary>The regimes the editor has: EL1&amp;0 user (ASID), EL1&amp;0 global, EL2, stage 2, EL2&amp;0 (E2H=1, ASID).</summary>
    public enum Regime { El10User, El10Global, El2, Stage2, El20 }

    /// <summary>A random descriptor pair at a level of one regime, judged under one policy and FEAT_BBM level.</summary>
    public sealed record Sample(Regime Regime, int Policy, int Level, int Bbm, bool OldTable, int MairIndex, ulong OldBits, int[] Flips);

    // The fields a change may touch, as bit groups: every one of them is flipped with some probability.
    private static readonly ulong[] LeafGroups =
    [
        7UL << 2, 1UL << 2, 1UL << 5, Descriptor.Ap1, Descriptor.Ap2, 1UL << 8, 3UL << 8, Descriptor.Af, Descriptor.NotGlobal,
        Descriptor.Nt, Descriptor.Guarded, Descriptor.Dbm, Descriptor.Contiguous, Descriptor.Pxn, Descriptor.Uxn, 1UL << 55,
        1UL << 58, 1UL << 60, 1UL << 63, Descriptor.TableOrPage, 1UL << 44, 1UL << 13,
    ];

    private static readonly ulong[] TableGroups =
    [
        Descriptor.ApTable0, Descriptor.ApTable1, Descriptor.UxnTable, Descriptor.PxnTable, Descriptor.NsTable, 1UL << 52,
        1UL << 56, 1UL << 10, Descriptor.TableOrPage, 1UL << 40,
    ];

    private static readonly Gen<Sample> Samples =
        from regime in Gen.Choose(0, 4)
        from policy in Gen.Choose(0, BreakBeforeMakePolicy.BuiltIn.Count - 1)
        from level in Gen.Choose(1, 3)
        from bbm in Gen.Choose(0, 2)
        from table in Gen.Elements(true, false)
        from mair in Gen.Choose(0, 1)
        from lo in Gen.Choose(0, int.MaxValue)
        from hi in Gen.Choose(0, int.MaxValue)
        from flips in Gen.Choose(0, 31).ArrayOf()
        select new Sample((Regime)regime, policy, level, bbm, table && level < 3, mair, (ulong)(uint)lo | (ulong)(uint)hi << 32,
            flips.Take(3).ToArray());

    /// <summary>Drives the checker like a machine: the editor's instructions as PE 0's.</summary>
    private sealed class CheckedPe(CheckerRig rig, ProcessorFeatures features) : ITableMaintenance
    {
        public int PeIndex => 0;
        public ProcessorFeatures Features => features;
        public void WriteDescriptor(PhysicalAddress pa, ulong value) => rig.Str(0, pa, value);
        public ulong ReadDescriptor(PhysicalAddress pa) => rig.Memory.ReadUInt64(pa);
        public void Dsb(DsbOption option) => rig.Dsb(0, option);
        public void Isb() => rig.Checker.OnIsb(0);
        public void Tlbi(TlbiOp op, ulong operand = 0) => rig.Tlbi(0, op, operand);
    }

    private sealed record Outcome(IReadOnlyList<Violation> Violations, bool Broke, bool Applicable, ulong Old = 0, ulong New = 0,
        IReadOnlyList<MaintenanceStep>? Steps = null)
    {
        public override string ToString()
            => $"0x{Old:x16} -> 0x{New:x16}: {(Broke ? "broken" : "in place")}; steps: {string.Join("; ", Steps ?? [])}; violations: {string.Join("\n", Violations)}";
    }

    private static Outcome Run(Sample s, bool breakBeforeMake)
    {
        var policy = BreakBeforeMakePolicy.BuiltIn[s.Policy];
        var features = ProcessorFeatures.QemuMax with { BbmLevel = s.Bbm };
        var rig = new CheckerRig(2, new CheckerOptions { Policy = policy, Features = features });
        bool stage2 = s.Regime == Regime.Stage2;
        var geo = stage2 ? Geometries.Stage2(Granule.Size4K, 48, 0) : Geometries.Stage1(Granule.Size4K, 48);
        var mair = Mairs[s.MairIndex];
        var def = new AddressSpaceDefinition
        {
            Regime = s.Regime switch
            {
                Regime.El2 => Arm64Mmu.Architecture.Regime.El2,
                Regime.Stage2 => Arm64Mmu.Architecture.Regime.Stage2,
                Regime.El20 => Arm64Mmu.Architecture.Regime.El20,
                _ => Arm64Mmu.Architecture.Regime.El10,
            },
            Geometry = geo,
            Asid = s.Regime is Regime.El10User or Regime.El20 ? (ushort)5 : null,
            Vmid = stage2 ? (ushort)3 : (ushort)0,
            Mair = stage2 ? null : mair,
        };
        var tables = new TableBuilder(rig.Allocator, geo);
        var slot = tables.SlotFor(Va, s.Level, allocate: true);
        int shift = geo.LevelShift(s.Level);
        var (oldValue, newValue) = Pair(s, rig, geo, shift, stage2);
        if (Descriptor.TypeAt(oldValue, s.Level, geo) == DescriptorType.Invalid || Descriptor.TypeAt(newValue, s.Level, geo) == DescriptorType.Invalid
            || oldValue == newValue)
            return new Outcome([], false, false);
        rig.Memory.WriteUInt64(slot, oldValue); // before any PE loads the tables: not checked
        for (int pe = 0; pe < 2; pe++) Load(rig, pe, s.Regime, tables.Root, mair);

        bool oldLeaf = Descriptor.TypeAt(oldValue, s.Level, geo) != DescriptorType.Table;
        bool global = def.TwoPrivilege && oldLeaf && (oldValue & Descriptor.NotGlobal) == 0;
        // What the planner would ask for: the entry itself, or everything below a table (whose page is global).
        var request = new InvalidationRequest(Va.Value, 1UL << shift, oldLeaf ? 1UL << shift : 0x1000, oldLeaf ? s.Level : null, oldLeaf,
            global || !oldLeaf || !def.HasAsid);
        var options = MaintenanceOptions.Default with { InPlacePolicy = policy, BreakBeforeMake = breakBeforeMake, UseRangeTlbi = false };
        var change = new EntryChange(slot.Value, s.Level, Va.Value, oldValue, newValue, EntryChangeKind.Modify);
        // The editor reads the tables as they are, as TableUpdate.Sequence does (a merge is in place only if the old table
        // translates as the new block).
        var steps = MaintenanceSequence.Build(def, [change], request, options, features, rig.Memory.ReadWord);
        var pe0 = new CheckedPe(rig, features);
        foreach (var step in steps) step.ExecuteOn(pe0);
        // Broken: the new value was not stored straight over the old one (a break, or the FEAT_BBML1 nT sequence).
        var first = steps.First(x => x.Kind == MaintenanceStepKind.Store && x.Address == slot);
        bool broke = !(first.Role == StoreRole.InPlace && first.Value == newValue);
        return new Outcome(rig.Violations.ToArray(), broke, true, oldValue, newValue, steps);
    }

    private static (ulong Old, ulong New) Pair(Sample s, CheckerRig rig, TranslationGeometry geo, int shift, bool stage2)
    {
        ulong NewTable()
        {
            var t = rig.Allocator.Allocate(0x1000, 0x1000);
            // A live page below, so that a PE may hold entries through the table.
            ulong page = stage2 ? Descriptor.Stage2Leaf(OutputB, page: true) : Descriptor.Stage1Leaf(OutputB, page: true, attrIndx: 2);
            rig.Memory.WriteUInt64(t, page);
            return t.Value;
        }
        ulong oldValue;
        if (s.OldTable)
        {
            oldValue = Descriptor.Table(NewTable()) | (s.OldBits & (Descriptor.HierarchicalPermissions | 0x007F_0000_0000_0000UL));
        }
        else
        {
            ulong attrs = s.OldBits & Descriptor.LeafAttributeBits(geo.Format) & ~(s.Level < 3 ? 0 : Descriptor.Nt) & ~0xFFFF_0000UL;
            oldValue = Descriptor.EncodeAddress(OutputA, geo.Format) | attrs | Descriptor.Valid | (s.Level == 3 ? Descriptor.TableOrPage : 0);
        }
        ulong newValue = oldValue;
        var groups = s.OldTable ? TableGroups : LeafGroups;
        foreach (int f in s.Flips) newValue ^= groups[f % groups.Length];
        // Address changes move to another aligned output (or another table); a type change gets a real table or block.
        if (((oldValue ^ newValue) & ((1UL << 44) | (1UL << 13) | (1UL << 40))) != 0)
        {
            newValue &= ~((1UL << 44) | (1UL << 13) | (1UL << 40));
            newValue = s.OldTable ? (newValue & ~Descriptor.AddressBits(geo.Format)) | Descriptor.EncodeAddress(NewTable(), geo.Format)
                                  : (newValue & ~Descriptor.AddressBits(geo.Format)) | Descriptor.EncodeAddress(OutputB, geo.Format);
        }
        if (s.Level < 3 && ((oldValue ^ newValue) & Descriptor.TableOrPage) != 0)
        {
            newValue = s.OldTable
                ? (newValue & ~Descriptor.AddressBits(geo.Format) & ~Descriptor.TableOrPage) | Descriptor.EncodeAddress(OutputA & ~((1UL << shift) - 1), geo.Format)
                : Descriptor.Table(NewTable()) | (newValue & Descriptor.HierarchicalPermissions);
        }
        return (oldValue, newValue);
    }

    private static void Load(CheckerRig rig, int pe, Regime regime, ulong root, Mair mair)
    {
        switch (regime)
        {
            case Regime.El10User:
            case Regime.El10Global:
                rig.Msr(pe, SystemRegister.MairEl1, mair.Value);
                rig.LoadEl1(pe, root, regime == Regime.El10User ? (ushort)5 : (ushort)0);
                break;
            case Regime.El2:
                rig.Msr(pe, SystemRegister.MairEl2, mair.Value);
                rig.LoadEl2(pe, root);
                break;
            case Regime.El20:
                rig.Msr(pe, SystemRegister.MairEl2, mair.Value);
                rig.LoadEl20(pe, root, 5);
                break;
            default:
                rig.LoadStage2(pe, root, 3);
                break;
        }
    }

    [Fact]
    public void WhatTheEditorWritesInPlace_TheCheckerAllows_AndWhatTheCheckerFlags_TheEditorBreaks()
    {
        int applicable = 0, flaggedSeen = 0, inPlaceSeen = 0;
        Check.One(PropertyConfig.Runs(400), Prop.ForAll(Arb.From(Samples), (Sample s) =>
        {
            var weakened = Run(s, breakBeforeMake: false);
            if (!weakened.Applicable) return true;
            applicable++;
            var editor = Run(s, breakBeforeMake: true);
            bool flagged = weakened.Violations.Any(v => v.Kind == ViolationKind.MissingBreak);
            if (flagged) flaggedSeen++;
            if (!editor.Broke) inPlaceSeen++;
            // The editor's own sequence is clean, and it breaks whatever the checker flags when written in place.
            if (editor.Violations.Count == 0 && (!flagged || editor.Broke)) return true;
            throw new Xunit.Sdk.XunitException($"{s} flips [{string.Join(",", s.Flips)}]\nin place: {weakened}\neditor: {editor}");
        }));
        applicable.Should().BeGreaterThan(200, "most samples are valid descriptor pairs");
        flaggedSeen.Should().BeGreaterThan(20, "the samples include changes that need a break");
        inPlaceSeen.Should().BeGreaterThan(20, "the samples include changes allowed in place");
    }

    [Theory]
    [InlineData("architecture")]
    [InlineData("linux")]
    [InlineData("always-break")]
    public void NsBitFlip_IsBrokenByTheEditor_AndWouldBeFlaggedInPlace(string policyName)
    {
        // The disagreement issue 7 found: the editor wrote NS in place, the checker called it MissingBreak (I_WZRHR).
        var policy = BreakBeforeMakePolicy.Parse(policyName)!;
        var s = new Sample(Regime.El10Global, BreakBeforeMakePolicy.BuiltIn.ToList().IndexOf(policy), 3, 0, false, 0,
            Descriptor.Stage1Leaf(0, page: true, attrIndx: 0) & ~3UL, []);
        var withNs = s with { Flips = [Array.IndexOf(LeafGroups, 1UL << 5)] };
        Run(withNs, breakBeforeMake: false).Violations.Should().ContainSingle().Which.Reason.Should().Be(BreakReason.OutputAddress);
        var editor = Run(withNs, breakBeforeMake: true);
        editor.Broke.Should().BeTrue();
        editor.Violations.Should().BeEmpty();
    }

    [Fact]
    public void LinuxPolicy_SwapsNormalAndTaggedInPlace_AndChangesApTableInPlace_AndTheCheckerAgrees()
    {
        int linux = BreakBeforeMakePolicy.BuiltIn.ToList().IndexOf(BreakBeforeMakePolicy.Linux);
        var attrIndx = new Sample(Regime.El10User, linux, 3, 0, false, 0, Descriptor.Stage1Leaf(0, page: true, attrIndx: 0) & ~3UL,
            [Array.IndexOf(LeafGroups, 1UL << 2)]);
        var a = Run(attrIndx, breakBeforeMake: true);
        a.Broke.Should().BeFalse("MT_NORMAL -> MT_NORMAL_TAGGED is allowed live by pgattr_change_is_safe under Linux's MAIR");
        a.Violations.Should().BeEmpty();
        var apTable = new Sample(Regime.El10User, linux, 2, 0, true, 0, 0, [Array.IndexOf(TableGroups, Descriptor.ApTable1)]);
        var t = Run(apTable, breakBeforeMake: true);
        t.Broke.Should().BeFalse("hierarchical permissions are permissions: R_WHZWS does not ask for a break");
        t.Violations.Should().BeEmpty();
    }
}
