using System.Text;

namespace Arm64Mmu.Architecture;

/// <summary>
/// Which in-place changes of a live valid entry are allowed without a break — the one rule both the page-table editor
/// (<c>PageTables.MaintenanceSequence</c>: in place or break?) and the checker (<c>Checking.BreakBeforeMakeChecker</c>:
/// MissingBreak?) ask. The rule is data: for each kind of descriptor a pair of masks (bits that may change either way,
/// bits that may only be set), plus a few named switches; <see cref="Check"/> is a pure function of a
/// <see cref="DescriptorChange"/>, so a whole update can be judged before anything is written. Built-in rules:
/// <see cref="Architecture"/> (the Arm ARM minimum, R_WHZWS), <see cref="Linux"/> (arch/arm64/mm/mmu.c
/// <c>pgattr_change_is_safe</c>) and <see cref="AlwaysBreak"/> (Trusted Firmware-A); <see cref="FromMasks"/> and
/// <see cref="FromDelegate"/> build a user's own.
/// </summary>
public sealed class BreakBeforeMakePolicy
{
    private const ulong SoftwareBits = Descriptor.SoftwareBits;
    private const ulong Guarded = Descriptor.Guarded;
    private const ulong NonSecure = Descriptor.NonSecure;
    private const ulong AttrIndxBits = 7UL << 2;
    private const ulong MemAttrBits = 0xFUL << 2;
    private const ulong ShBits = 3UL << 8;
    private const ulong Stage2Xn = 3UL << 53;

    /// <summary>A short name, e.g. "architecture" or "linux".</summary>
    public required string Name { get; init; }
    /// <summary>What the rule is and where it comes from.</summary>
    public string Description { get; init; } = "";
    /// <summary>Stage-1 leaf bits that may change in either direction on a live entry.</summary>
    public ulong Stage1LeafMayChange { get; init; }
    /// <summary>Stage-1 leaf bits that may only go from 0 to 1 on a live entry (nG: Global → non-Global).</summary>
    public ulong Stage1LeafMaySet { get; init; }
    /// <summary>Stage-2 leaf bits that may change in either direction.</summary>
    public ulong Stage2LeafMayChange { get; init; }
    /// <summary>Stage-2 leaf bits that may only be set.</summary>
    public ulong Stage2LeafMaySet { get; init; }
    /// <summary>
    /// Table-descriptor bits (other than the next-level address and the type) that may change. NSTable (bit 63) of a
    /// stage-1 table is never allowed to change live whatever this mask says: it moves everything below to another
    /// output address space, an output-address change (I_WZRHR).
    /// </summary>
    public ulong TableMayChange { get; init; }
    /// <summary>A live contiguous entry may not change at all (Linux: "live contiguous mappings may not be manipulated at all").</summary>
    public bool FreezeLiveContiguous { get; init; }
    /// <summary>AttrIndx values that may replace one another live (Linux: MT_NORMAL 0 and MT_NORMAL_TAGGED 1).</summary>
    public IReadOnlyList<int> InterchangeableAttrIndx { get; init; } = Array.Empty<int>();
    /// <summary>
    /// The MAIR attributes the <see cref="InterchangeableAttrIndx"/> must select for the exchange to be allowed (Linux's
    /// MAIR puts Normal write-back 0xFF at MT_NORMAL and Normal Tagged 0xF0 at MT_NORMAL_TAGGED, arch/arm64/include/asm/
    /// sysreg.h MAIR_ATTR_NORMAL/MAIR_ATTR_NORMAL_TAGGED): under another MAIR the same two indices may name Device and
    /// Normal memory, a memory-type change the architecture never allows live. Empty: any attributes. When the MAIR is not
    /// known (<see cref="DescriptorChange.Mair"/> null) and this list is not empty, no exchange is allowed.
    /// </summary>
    public IReadOnlyList<byte> InterchangeableMairAttributes { get; init; } = Array.Empty<byte>();
    /// <summary>
    /// The lowest FEAT_BBM level at which a size change (block ↔ table, contiguous bit) may be made in place:
    /// 1 follows the architecture (level 1 with the nT bit set on the block, level 2 directly; R_PVTFW, R_KFLJB),
    /// 2 follows Linux (only BBML2 CPUs split live), 3 or more never.
    /// </summary>
    public int MinimumBbmLevelForSizeChange { get; init; } = 1;
    /// <summary>An AttrIndx change that selects an identical MAIR attribute is not a memory-type change (the architecture's view; Linux compares indices only).</summary>
    public bool CompareMairAttributes { get; init; }
    /// <summary>A user's own rule, consulted first; return null to fall back to the masks.</summary>
    public Func<DescriptorChange, BbmVerdict?>? Custom { get; init; }

    /// <summary>
    /// The architecture's minimum (Arm ARM R_WHZWS): permissions (AP, PXN, UXN/XN, S2AP),
    /// AF, DBM, GP, software bits and Global → non-Global may change live; output address (including NS, I_WZRHR), memory
    /// type, shareability, size and nG → G need a break. An output-address change of a read-only mapping with identical
    /// contents is also allowed by the architecture, but neither the checker nor the editor sees contents, so it asks for
    /// a break. Table descriptors may change their hierarchical permissions (APTable, UXNTable, PXNTable) live: they are
    /// permissions, which R_WHZWS does not list (only memory type, shareability/cacheability, output address, block size
    /// and a global entry over non-global ones need a break); the cached entries below, including walk-cache entries that
    /// hold the combined table attributes, must still be invalidated with a non-last-level TLBI over the table's span.
    /// </summary>
    public static BreakBeforeMakePolicy Architecture { get; } = new()
    {
        Name = "architecture",
        Description = "Arm ARM R_WHZWS: the minimum the architecture requires",
        Stage1LeafMayChange = Descriptor.Ap1 | Descriptor.Ap2 | Descriptor.Af | Descriptor.Dbm | Guarded | Descriptor.Pxn | Descriptor.Uxn | SoftwareBits,
        Stage1LeafMaySet = Descriptor.NotGlobal,
        Stage2LeafMayChange = Descriptor.S2ApRead | Descriptor.S2ApWrite | Descriptor.Af | Descriptor.Dbm | Stage2Xn | 0x0780_0000_0000_0000UL,
        TableMayChange = ulong.MaxValue,
        MinimumBbmLevelForSizeChange = 1,
        CompareMairAttributes = true,
    };

    /// <summary>
    /// Every valid → valid change breaks first, as Trusted Firmware-A's <c>xlat_change_mem_attributes_ctx</c> does (stricter
    /// than Arm ARM R_WHZWS needs), and no size change is made in place whatever FEAT_BBM offers.
    /// </summary>
    public static BreakBeforeMakePolicy AlwaysBreak { get; } = new()
    {
        Name = "always-break",
        Description = "Trusted Firmware-A xlat_change_mem_attributes_ctx: every valid-to-valid change breaks first",
        TableMayChange = 0,
        FreezeLiveContiguous = true,
        MinimumBbmLevelForSizeChange = int.MaxValue,
    };

    /// <summary>
    /// Linux arm64 <c>pgattr_change_is_safe</c> (v6.x, arch/arm64/mm/mmu.c) for stage-1 leaves: only PXN,
    /// AP[2] (RDONLY), DBM (WRITE), Global → non-Global and the software bits may change; AttrIndx may switch between
    /// MT_NORMAL (0) and MT_NORMAL_TAGGED (1) when the MAIR gives them Linux's Normal and Normal-Tagged attributes; a
    /// contiguous entry may not change at all. Block splitting in place only with FEAT_BBML2. <c>pgattr_change_is_safe</c>
    /// judges leaves only, so stage-2 leaves and table descriptors (hierarchical permissions) follow <see cref="Architecture"/>.
    /// </summary>
    public static BreakBeforeMakePolicy Linux { get; } = new()
    {
        Name = "linux",
        Description = "Linux arch/arm64/mm/mmu.c pgattr_change_is_safe",
        Stage1LeafMayChange = Descriptor.Pxn | Descriptor.Ap2 | Descriptor.Dbm | SoftwareBits,
        Stage1LeafMaySet = Descriptor.NotGlobal,
        Stage2LeafMayChange = Architecture.Stage2LeafMayChange,
        TableMayChange = ulong.MaxValue,
        FreezeLiveContiguous = true,
        InterchangeableAttrIndx = new[] { 0, 1 },
        InterchangeableMairAttributes = new byte[] { 0xFF, 0xF0 },
        MinimumBbmLevelForSizeChange = 2,
    };

    /// <summary>A policy from a mask pair for stage-1 leaves; everything else as <see cref="Architecture"/>.</summary>
    /// <param name="name">The policy's name.</param>
    /// <param name="stage1MayChange">Stage-1 leaf bits that may change either way.</param>
    /// <param name="stage1MaySet">Stage-1 leaf bits that may only be set.</param>
    public static BreakBeforeMakePolicy FromMasks(string name, ulong stage1MayChange, ulong stage1MaySet) => new()
    {
        Name = name,
        Description = $"stage-1 leaves may change 0x{stage1MayChange:x16} and set 0x{stage1MaySet:x16}",
        Stage1LeafMayChange = stage1MayChange,
        Stage1LeafMaySet = stage1MaySet,
        Stage2LeafMayChange = Architecture.Stage2LeafMayChange,
        TableMayChange = ulong.MaxValue,
        MinimumBbmLevelForSizeChange = 1,
    };

    /// <summary>A policy decided by a delegate; where it returns null, <see cref="Architecture"/> decides.</summary>
    public static BreakBeforeMakePolicy FromDelegate(string name, Func<DescriptorChange, BbmVerdict?> rule) => new()
    {
        Name = name,
        Description = "user rule",
        Stage1LeafMayChange = Architecture.Stage1LeafMayChange,
        Stage1LeafMaySet = Architecture.Stage1LeafMaySet,
        Stage2LeafMayChange = Architecture.Stage2LeafMayChange,
        TableMayChange = ulong.MaxValue,
        MinimumBbmLevelForSizeChange = 1,
        Custom = rule ?? throw new ArgumentNullException(nameof(rule)),
    };

    /// <summary>Parses a policy name: "architecture" (or "arm"), "linux", "always-break" (or "tf-a"); null if unknown.</summary>
    public static BreakBeforeMakePolicy? Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "architecture" or "arch" or "arm" => Architecture,
        "linux" => Linux,
        "always-break" or "tf-a" => AlwaysBreak,
        _ => null,
    };

    /// <summary>The built-in policies.</summary>
    public static IReadOnlyList<BreakBeforeMakePolicy> BuiltIn { get; } = [Architecture, Linux, AlwaysBreak];

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Decides whether a valid → valid change may be made in place. Pure: depends only on <paramref name="c"/> and this policy's data.</summary>
    public BbmVerdict Check(in DescriptorChange c)
    {
        if (Custom?.Invoke(c) is { } custom) return custom;
        if (c.Old == c.New) return BbmVerdict.Allowed;
        bool oldTable = c.OldType == DescriptorType.Table, newTable = c.NewType == DescriptorType.Table;
        if (oldTable && newTable)
        {
            ulong addr = c.AddressMask(true);
            if (((c.Old ^ c.New) & addr) != 0)
                return new(BreakReason.TableAddress, $"the table descriptor now points at table 0x{Descriptor.Address(c.New, (int)c.Granule, c.Format):x} instead of 0x{Descriptor.Address(c.Old, (int)c.Granule, c.Format):x}");
            if (c.Stage == 1 && ((c.Old ^ c.New) & Descriptor.NsTable) != 0)
                return new(BreakReason.OutputAddress, "NSTable changed: everything below moves to the other output address space (I_WZRHR)");
            ulong other = (c.Old ^ c.New) & ~addr & ~3UL & ~TableMayChange;
            return other == 0 ? BbmVerdict.Allowed : new(BreakReason.OtherBits,
                $"table descriptor {Descriptor.FieldNames(other, c.Stage, table: true, c.Format)} changed, not allowed live under the {Name} rule");
        }
        if (oldTable != newTable) return SizeChange(c, newTable ? "a block was replaced by a table (split)" : "a table was replaced by a block (merge)");
        return c.Stage == 2 ? CheckLeaf(c, Stage2LeafMayChange, Stage2LeafMaySet, MemAttrBits, 0)
                            : CheckLeaf(c, Stage1LeafMayChange, c.TwoPrivilege ? Stage1LeafMaySet : 0, AttrIndxBits, NonSecure);
    }

    private BbmVerdict SizeChange(in DescriptorChange c, string what)
    {
        if (c.BbmLevel < Math.Max(1, MinimumBbmLevelForSizeChange))
            return new(BreakReason.BlockSize, $"{what}: the translation size changes, which needs a break with FEAT_BBM level {c.BbmLevel}" +
                (MinimumBbmLevelForSizeChange > 2 ? $" (the {Name} rule never changes a size in place)"
                    : MinimumBbmLevelForSizeChange > 1 && c.BbmLevel >= 1 ? $" under the {Name} rule (level {MinimumBbmLevelForSizeChange} needed)" : "") + " (R_WHZWS)");
        if (c.BbmLevel == 1)
        {
            ulong block = c.OldType == DescriptorType.Block ? c.Old : c.New;
            if ((block & Descriptor.Nt) == 0)
                return new(BreakReason.BlockSize, $"{what}: with FEAT_BBM level 1 a size change without a break needs the block to carry nT=1 (bit 16) (R_KFLJB)");
        }
        return new(BreakReason.None, $"{what} in place, allowed by FEAT_BBM level {c.BbmLevel}; the old entries must still be invalidated", SizeChange: true);
    }

    /// <summary>The most descriptors <see cref="CheckSameTranslation"/> compares for one size change (a 4K level-1 block split down to pages is 262,656).</summary>
    public const int SameTranslationDescriptorLimit = 1 << 19;

    /// <summary>
    /// Whether a block ↔ table change that <see cref="Check"/> allows as a FEAT_BBM size change leaves the translation of
    /// every address of the range as it was. FEAT_BBM relaxes only "changing table or block size without changing any other
    /// property requiring break-before-make as specified in R_WHZWS" (Arm ARM D8.17.2, R_PVTFW), and the two descriptors
    /// alone do not show that: the table's entries do. For a split, every entry below the new table (followed down through
    /// its tables) must be valid and translate its part of the old block as the block did: the block's own piece of that
    /// size (same output address for every input address, the block's attributes) changed in place into the entry must be a
    /// change this rule allows (so permissions may differ where <see cref="Check"/> lets them change live; output address,
    /// memory type, shareability or nG → G may not, under any FEAT_BBM level). An invalid entry unmaps part of the block,
    /// which is not a size change either. For a merge, every valid leaf below the old table is judged the same way against
    /// the new block's piece; an invalid one becomes mapped, which needs nothing (I_WZCBG). nT and the Contiguous bit, the
    /// size-change aids, are not compared. At most <see cref="SameTranslationDescriptorLimit"/> descriptors are read; the
    /// rest of a larger change is not compared.
    /// </summary>
    /// <param name="c">The size change, as given to <see cref="Check"/>.</param>
    /// <param name="geometry">The walk geometry (which levels allow blocks).</param>
    /// <param name="readDescriptor">Reads the descriptor at a table address as written in a table descriptor plus 8 × index
    /// (an IPA for stage-1 tables under stage 2); unreadable entries read as 0 (invalid).</param>
    /// <returns><see cref="BbmVerdict.Allowed"/>, or the reason the change is more than a size change.</returns>
    public BbmVerdict CheckSameTranslation(in DescriptorChange c, in TranslationGeometry geometry, Func<ulong, ulong> readDescriptor)
    {
        ArgumentNullException.ThrowIfNull(readDescriptor);
        bool split = c.OldType == DescriptorType.Block && c.NewType == DescriptorType.Table;
        if (!split && !(c.OldType == DescriptorType.Table && c.NewType == DescriptorType.Block)) return BbmVerdict.Allowed;
        var g = geometry;
        ulong block = split ? c.Old : c.New;
        ulong attrs = block & Descriptor.LeafAttributeBits(c.Format) & ~(Descriptor.Contiguous | Descriptor.Nt);
        ulong blockOa = Descriptor.Address(block, g.LevelShift(c.Level), c.Format);
        ulong table = Descriptor.Address(split ? c.New : c.Old, (int)c.Granule, c.Format);
        ulong entries = 1UL << ((int)c.Granule - 3);
        int budget = SameTranslationDescriptorLimit;
        var change = c;
        int granuleShift = (int)c.Granule;
        var format = c.Format;
        var verdict = BbmVerdict.Allowed;
        Compare(table, c.Level + 1, blockOa, 0);
        return verdict;

        // False once a difference is found or the budget is spent.
        bool Compare(ulong tableAddress, int level, ulong oa, ulong offset)
        {
            int shift = g.LevelShift(level);
            for (ulong i = 0; i < entries; i++)
            {
                if (--budget < 0) return false;
                ulong e = readDescriptor(tableAddress + i * 8);
                ulong pieceOa = oa + (i << shift), at = offset + (i << shift);
                var t = Descriptor.TypeAt(e, level, g);
                if (t == DescriptorType.Table)
                {
                    if (!Compare(Descriptor.Address(e, granuleShift, format), level + 1, pieceOa, at)) return false;
                    continue;
                }
                if (t == DescriptorType.Invalid)
                {
                    if (!split) continue;
                    verdict = new(BreakReason.BlockSize, $"a block was replaced by a table (split) that leaves input +0x{at:x}..+0x{at + ((1UL << shift) - 1):x} of the block unmapped " +
                        $"(its level-{level} entry {i} is invalid): more than the size changes, so FEAT_BBM does not apply (R_PVTFW)");
                    return false;
                }
                var pieceType = level == 3 ? DescriptorType.Page : DescriptorType.Block;
                ulong piece = attrs | Descriptor.EncodeAddress(pieceOa, format) | Descriptor.Valid | (level == 3 ? Descriptor.TableOrPage : 0)
                              | (e & Descriptor.Contiguous);
                var q = split
                    ? change with { Old = piece, New = e, Level = level, OldType = pieceType, NewType = t }
                    : change with { Old = e, New = piece, Level = level, OldType = t, NewType = pieceType };
                var v = Check(q);
                if (v.IsAllowed && !v.SizeChange) continue;
                string what = split ? "the new table" : "the new block";
                verdict = new(v.IsAllowed ? BreakReason.BlockSize : v.Reason,
                    $"{(split ? "a block was replaced by a table (split)" : "a table was replaced by a block (merge)")}, but {what} does not translate input " +
                    $"+0x{at:x}..+0x{at + ((1UL << shift) - 1):x} of the range as {(split ? "the block did" : "the old table did")} " +
                    $"(level-{level} entry {i}): {v.Explanation ?? "its size changes too"}; FEAT_BBM relaxes only a change of size (R_PVTFW)");
                return false;
            }
            return true;
        }
    }

    private BbmVerdict CheckLeaf(in DescriptorChange c, ulong mayChange, ulong maySet, ulong attrBits, ulong spaceBits)
    {
        ulong diff = c.Old ^ c.New;
        ulong addr = c.AddressMask(false);
        bool lpa2 = c.Format == Descriptor.AddressFormat.Lpa2;
        bool block = c.OldType == DescriptorType.Block;
        ulong handled = addr | spaceBits | attrBits | Descriptor.Contiguous | (lpa2 ? 0 : ShBits) | (block ? Descriptor.Nt : 0)
                      | (c.Stage == 1 && c.TwoPrivilege ? Descriptor.NotGlobal : 0);
        var reasons = new List<(BreakReason Reason, string Text)>();
        bool sizeChange = false;
        if ((diff & (addr | spaceBits)) != 0)
            reasons.Add((BreakReason.OutputAddress, (diff & spaceBits) != 0 && (diff & addr) == 0
                ? "the output address space changed (NS; I_WZRHR)"
                : $"the output address changed from 0x{Descriptor.Address(c.Old, TranslationGeometryShift(c), c.Format):x} to 0x{Descriptor.Address(c.New, TranslationGeometryShift(c), c.Format):x}"));
        if ((diff & attrBits) != 0 && !SameMemoryType(c))
            reasons.Add((BreakReason.MemoryType, c.Stage == 2
                ? $"the stage-2 memory attributes changed (MemAttr 0x{(c.Old >> 2) & 0xF:x} → 0x{(c.New >> 2) & 0xF:x})"
                : $"the memory type changed (AttrIndx {Descriptor.AttrIndx(c.Old)} → {Descriptor.AttrIndx(c.New)}{MairNote(c)})"));
        if (!lpa2 && (diff & ShBits) != 0)
            reasons.Add((BreakReason.Shareability, $"the shareability changed (SH {(c.Old >> 8) & 3} → {(c.New >> 8) & 3})"));
        if (c.Stage == 1 && c.TwoPrivilege && (c.Old & ~c.New & Descriptor.NotGlobal) != 0)
            reasons.Add((BreakReason.NotGlobalToGlobal, "a non-global entry became global (nG 1 → 0): it may overlap non-global entries of some ASID"));
        else if (c.Stage == 1 && c.TwoPrivilege && (c.New & ~c.Old & Descriptor.NotGlobal) != 0 && ((maySet | mayChange) & Descriptor.NotGlobal) == 0)
            reasons.Add((BreakReason.RefusedAttributes, $"Global → non-Global is not allowed live by the {Name} rule"));
        if (FreezeLiveContiguous && ((c.Old | c.New) & Descriptor.Contiguous) != 0)
            reasons.Add((BreakReason.Contiguous, "a contiguous entry changed; the " + Name + " rule does not allow live contiguous entries to change at all"));
        else if ((diff & Descriptor.Contiguous) != 0)
        {
            if (c.BbmLevel >= Math.Max(1, MinimumBbmLevelForSizeChange)) sizeChange = true;
            else reasons.Add((BreakReason.Contiguous, $"the contiguous bit changed ({((c.New & Descriptor.Contiguous) != 0 ? "set" : "cleared")}), a size change that needs a break with FEAT_BBM level {c.BbmLevel} (D8.17.2)"));
        }
        // nT alone may change live with FEAT_BBM (it is how the level-1 sequence starts and ends); without it bit 16 of a block is RES0.
        if (block && (diff & Descriptor.Nt) != 0 && c.BbmLevel < 1)
            reasons.Add((BreakReason.OtherBits, "bit 16 (nT) changed, but nT is RES0 without FEAT_BBM"));
        ulong rest = diff & ~handled;
        ulong refused = rest & ~mayChange & ~(maySet & c.New & ~c.Old);
        if (refused != 0)
        {
            ulong known = c.Stage == 2
                ? Descriptor.S2ApRead | Descriptor.S2ApWrite | Descriptor.Af | Descriptor.Dbm | Stage2Xn | SoftwareBits
                : Descriptor.Ap1 | Descriptor.Ap2 | Descriptor.Af | Descriptor.Dbm | Guarded | Descriptor.Pxn | Descriptor.Uxn | SoftwareBits;
            if ((refused & known) != 0)
                reasons.Add((BreakReason.RefusedAttributes, $"{Descriptor.FieldNames(refused & known, c.Stage, false, c.Format)} may not change on a live entry under the {Name} rule"));
            if ((refused & ~known) != 0)
                reasons.Add((BreakReason.OtherBits, $"reserved or IMPLEMENTATION DEFINED bits {Descriptor.FieldNames(refused & ~known, c.Stage, false, c.Format)} changed"));
        }
        if (reasons.Count == 0)
            return sizeChange ? new(BreakReason.None, "the contiguous bit changed in place, allowed by FEAT_BBM; the old entries must still be invalidated", SizeChange: true) : BbmVerdict.Allowed;
        reasons.Sort((a, b) => a.Reason.CompareTo(b.Reason));
        var sb = new StringBuilder();
        foreach (var r in reasons)
        {
            if (sb.Length != 0) sb.Append("; ");
            sb.Append(r.Text);
        }
        return new(reasons[0].Reason, sb.ToString());
    }

    private static int TranslationGeometryShift(in DescriptorChange c) => TranslationGeometry.LevelShift(c.Granule, c.Level);

    private bool SameMemoryType(in DescriptorChange c)
    {
        if (c.Stage == 2) return false;
        int a = Descriptor.AttrIndx(c.Old), b = Descriptor.AttrIndx(c.New);
        if (InterchangeableAttrIndx.Contains(a) && InterchangeableAttrIndx.Contains(b)
            && (InterchangeableMairAttributes.Count == 0
                || (c.Mair is { } lm && InterchangeableMairAttributes.Contains(lm[a]) && InterchangeableMairAttributes.Contains(lm[b]))))
            return true;
        return CompareMairAttributes && c.Mair is { } m && m[a] == m[b];
    }

    private static string MairNote(in DescriptorChange c)
        => c.Mair is { } m ? $": {MemoryAttributes.Describe(m[Descriptor.AttrIndx(c.Old)])} → {MemoryAttributes.Describe(m[Descriptor.AttrIndx(c.New)])}" : "";
}
