using System.Text;
using Arm64Mmu.Architecture;
using Arm64Mmu.Memory;

namespace Arm64Mmu.PageTables;

/// <summary>One line of a <see cref="PageTableDump"/>: a run of leaves with the same level and attributes mapping contiguous input to contiguous output.</summary>
/// <param name="Start">First input address.</param>
/// <param name="Length">Bytes.</param>
/// <param name="OutputAddress">Output address of <paramref name="Start"/>.</param>
/// <param name="Level">Lookup level of the leaves.</param>
/// <param name="Attributes">The leaves' attribute bits (descriptor bits other than address and type).</param>
/// <param name="TableAttributes">Hierarchical attributes (APTable, UXNTable/XNTable, PXNTable, NSTable) collected on the way down.</param>
/// <param name="Text">The formatted line.</param>
public readonly record struct DumpRange(ulong Start, ulong Length, ulong OutputAddress, int Level, ulong Attributes, ulong TableAttributes, string Text)
{
    /// <summary>End (exclusive).</summary>
    public ulong End => Start + Length;
}

/// <summary>
/// A ptdump-style listing of translation tables, in the spirit of Linux's /sys/kernel/debug/kernel_page_tables
/// (arch/arm64/mm/ptdump.c): consecutive leaves of one level with identical attributes and contiguous output are merged
/// into one line with the input range, size, level and type, output address and decoded attributes. For people, and
/// for diffs (<see cref="Diff"/>) and golden tests.
/// </summary>
public sealed class PageTableDump
{
    /// <summary>Most range lines a dump holds by default; a dump that would have more stops there (<see cref="Truncated"/>).</summary>
    public const int DefaultMaxLines = 100_000;

    /// <summary>Most descriptors a dump reads: tables that link each other many times over map far more than they hold,
    /// and a dump of them stops here (<see cref="Truncated"/>) instead of running for hours.</summary>
    public const int MaxEntries = 1 << 24;

    private const int MaxNotes = 100;

    private readonly List<DumpRange> _ranges;
    private readonly List<string> _notes;

    private PageTableDump(string header, List<DumpRange> ranges, List<string> notes, bool truncated)
    {
        Header = header;
        _ranges = ranges;
        _notes = notes;
        Truncated = truncated;
    }

    /// <summary>The first line: regime, tags and geometry.</summary>
    public string Header { get; }
    /// <summary>The merged ranges in ascending input-address order.</summary>
    public IReadOnlyList<DumpRange> Ranges => _ranges;
    /// <summary>What the walk did not follow: entries linking a table of their own walk (cycles), and where it stopped.</summary>
    public IReadOnlyList<string> Notes => _notes;
    /// <summary>True when the walk stopped at its line limit or at <see cref="MaxEntries"/> before reading every table.</summary>
    public bool Truncated { get; }
    /// <summary>Header, range lines, then the notes as <c>#</c> comments.</summary>
    public IEnumerable<string> Lines => _ranges.Select(r => r.Text).Prepend(Header).Concat(_notes.Select(n => "# " + n));
    /// <summary>The listing, one line per range, each ending with a newline.</summary>
    public string Text => string.Concat(Lines.Select(l => l + "\n"));

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Dumps an address space's tables.</summary>
    /// <param name="space">The address space.</param>
    /// <param name="mair">MAIR value to name stage-1 AttrIndx values (optional).</param>
    /// <param name="maxLines">Most range lines (default <see cref="DefaultMaxLines"/>).</param>
    public static PageTableDump Of(AddressSpace space, Mair? mair = null, int maxLines = DefaultMaxLines)
    {
        ArgumentNullException.ThrowIfNull(space);
        return Of(space.Memory, space.Definition, space.RootPhysical.Value, mair, maxLines);
    }

    /// <summary>
    /// Dumps tables given by their initial table's physical address (e.g. built with <see cref="TableBuilder"/>). Shared
    /// tables are listed under every entry that links them, as a walk sees them; an entry linking a table already on its
    /// own walk (a cycle) is not followed but noted; the walk stops at <paramref name="maxLines"/> lines or
    /// <see cref="MaxEntries"/> descriptors read.
    /// </summary>
    public static PageTableDump Of(PhysicalMemory memory, AddressSpaceDefinition definition, ulong rootPhysical, Mair? mair = null, int maxLines = DefaultMaxLines)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLines);
        var d = new Dumper(memory, definition, mair, maxLines);
        d.Walk(rootPhysical, definition.Geometry.StartLevel, 0, 0);
        if (!d.Truncated) d.Flush();
        var notes = d.Notes;
        if (d.CyclesNotShown > 0) notes.Add($"{d.CyclesNotShown} more cyclic entries not followed");
        if (d.Truncated) notes.Add($"truncated after {d.Ranges.Count} lines and {d.EntriesRead} descriptors (at most {maxLines} lines and {MaxEntries} descriptors)");
        return new PageTableDump(HeaderFor(definition), d.Ranges, notes, d.Truncated);
    }

    private static string HeaderFor(AddressSpaceDefinition def)
    {
        var g = def.Geometry;
        string what = def.Regime == Regime.El10 ? $"EL1&0 stage 1{(def.UpperRange ? " TTBR1" : "")}, {(def.Asid is { } a ? $"ASID {a}" : "global")}"
            : def.Regime == Regime.El2 ? "EL2 stage 1"
            : def.Regime == Regime.El20 ? $"EL2&0 stage 1{(def.UpperRange ? " TTBR1" : "")}, {(def.Asid is { } a2 ? $"ASID {a2}" : "global")}"
            : $"stage 2, VMID {def.Vmid}";
        string ds = g.Format == Descriptor.AddressFormat.Lpa2 ? ", DS=1" : "";
        return $"# {what}; {g.Granule.Name()} granule, {g.InputBits}-bit input, start level {g.StartLevel}{ds}";
    }

    /// <summary>
    /// The lines that differ between two dumps, in order: "- " for a line only in <paramref name="before"/>, "+ " for a
    /// line only in <paramref name="after"/> (a longest-common-subsequence diff); empty when they are the same.
    /// </summary>
    public static string Diff(PageTableDump before, PageTableDump after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var a = before.Lines.ToArray();
        var b = after.Lines.ToArray();
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var sb = new StringBuilder();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { x++; y++; }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) sb.Append("- ").Append(a[x++]).Append('\n');
            else sb.Append("+ ").Append(b[y++]).Append('\n');
        }
        return sb.ToString();
    }

    private sealed class Dumper
    {
        private readonly PhysicalMemory _memory;
        private readonly AddressSpaceDefinition _def;
        private readonly TranslationGeometry _g;
        private readonly Mair? _mair;
        private readonly ulong _attrMask;
        private readonly ulong _base;
        private readonly int _maxLines;
        private readonly ulong[] _path = new ulong[8];
        public readonly List<DumpRange> Ranges = new();
        public readonly List<string> Notes = new();
        public bool Truncated;
        public int EntriesRead;
        public int CyclesNotShown;

        private bool _open;
        private ulong _start, _end, _oa;
        private int _level;
        private ulong _attrs, _tableAttrs;

        public Dumper(PhysicalMemory memory, AddressSpaceDefinition def, Mair? mair, int maxLines)
        {
            _maxLines = maxLines;
            _memory = memory;
            _def = def;
            _g = def.Geometry;
            _mair = mair;
            _attrMask = Descriptor.LeafAttributeBits(_g.Format);
            _base = def.UpperRange ? ~0UL << _g.InputBits : 0;
        }

        public void Walk(ulong table, int level, ulong tableIa, ulong tableAttrs)
        {
            ulong n = level == _g.StartLevel ? (ulong)_g.InitialEntries : 1UL << _g.Stride;
            int shift = _g.LevelShift(level);
            _path[level - _g.StartLevel] = table;
            for (ulong i = 0; i < n; i++)
            {
                if (EntriesRead == MaxEntries || Ranges.Count == _maxLines)
                {
                    Truncated = true;
                    return;
                }
                EntriesRead++;
                ulong d = _memory.ReadWord(table + i * 8);
                if ((d & Descriptor.Valid) == 0) continue;
                ulong ia = tableIa + (i << shift);
                if (level < 3 && (d & Descriptor.TableOrPage) != 0)
                {
                    ulong next = Descriptor.Address(d, _g.GranuleBits, _g.Format) + _def.TableViewOffset;
                    if (Array.IndexOf(_path, next, 0, level - _g.StartLevel + 1) >= 0)
                    {
                        if (Notes.Count < MaxNotes) Notes.Add($"the level-{level} entry at 0x{table + i * 8:x} (input 0x{ia | _base:x}) links table 0x{next:x}, already on its own walk: a cycle, not followed");
                        else CyclesNotShown++;
                        continue;
                    }
                    Walk(next, level + 1, ia, tableAttrs | (d & 0xF800_0000_0000_0000UL));
                    if (Truncated) return;
                    continue;
                }
                if (level == 3 && (d & Descriptor.TableOrPage) == 0) continue; // reserved encoding: invalid
                Add(ia | _base, 1UL << shift, Descriptor.Address(d, shift, _g.Format), level, d & _attrMask, tableAttrs);
            }
        }

        private void Add(ulong start, ulong size, ulong oa, int level, ulong attrs, ulong tableAttrs)
        {
            if (_open && start == _end && level == _level && attrs == _attrs && tableAttrs == _tableAttrs && oa == _oa + (_end - _start))
            {
                _end = start + size;
                return;
            }
            Flush();
            _open = true;
            _start = start;
            _end = start + size;
            _oa = oa;
            _level = level;
            _attrs = attrs;
            _tableAttrs = tableAttrs;
        }

        public void Flush()
        {
            if (!_open) return;
            _open = false;
            ulong length = _end - _start;
            Ranges.Add(new DumpRange(_start, length, _oa, _level, _attrs, _tableAttrs, Format(length)));
        }

        private string Format(ulong length)
        {
            var sb = new StringBuilder();
            sb.Append($"0x{_start:x16}-0x{_start + length:x16} {Size(length)} L{_level} {(_level == 3 ? "PAGE" : "BLK ")} -> 0x{_oa:x16}");
            ulong a = _attrs;
            string sh = _g.Format == Descriptor.AddressFormat.Lpa2 ? "SH=TCR" : ((a >> 8) & 3) switch { 0 => "SH=NS", 1 => "SH=??", 2 => "SH=OS", _ => "SH=IS" };
            string af = (a & Descriptor.Af) != 0 ? "AF" : "  ";
            string con = (a & Descriptor.Contiguous) != 0 ? "CON" : "   ";
            string dbm = (a & Descriptor.Dbm) != 0 ? "DBM" : "   ";
            if (_def.Regime.IsStage2)
            {
                string ap = ((a >> 6) & 3) switch { 0 => "S2AP=--", 1 => "S2AP=RO", 2 => "S2AP=WO", _ => "S2AP=RW" };
                string xn = ((a >> 53) & 3) switch { 0 => "x   ", 2 => "XN  ", var v => $"XN={v}" };
                int memAttr = (int)((a >> 2) & 0xF);
                sb.Append($" {ap} {xn} {af} {sh} {con} {dbm} MemAttr=0x{memAttr:X} ({MemoryAttributes.Describe(MemoryAttributes.Stage2ToMair(memAttr))})");
            }
            else
            {
                string rw = (a & Descriptor.Ap2) != 0 ? "ro" : "RW";
                int idx = Descriptor.AttrIndx(a);
                string attr = _mair is { } m ? $"Attr{idx}={MemoryAttributes.Describe(m[idx])}" : $"Attr{idx}";
                if (_def.TwoPrivilege)
                {
                    string nx = (a & Descriptor.Pxn) != 0 ? "NX" : "x ";
                    string uxn = (a & Descriptor.Uxn) != 0 ? "UXN" : "   ";
                    string usr = (a & Descriptor.Ap1) != 0 ? "USR" : "   ";
                    string ng = (a & Descriptor.NotGlobal) != 0 ? "nG" : "  ";
                    sb.Append($" {rw} {nx} {uxn} {usr} {ng} {af} {sh} {con} {dbm} {attr}");
                }
                else
                {
                    string nx = (a & Descriptor.Uxn) != 0 ? "NX" : "x ";
                    sb.Append($" {rw} {nx} {af} {sh} {con} {dbm} {attr}");
                }
            }
            ulong sw = a & (0xFUL << 55);
            if (sw != 0) sb.Append($" SW=0x{sw >> 55:x}");
            if (_tableAttrs != 0)
            {
                var t = new List<string>();
                if ((_tableAttrs & (1UL << 63)) != 0) t.Add("NSTable");
                ulong apt = (_tableAttrs >> 61) & 3;
                if (apt != 0) t.Add($"APTable={apt}");
                if ((_tableAttrs & Descriptor.UxnTable) != 0) t.Add(_def.TwoPrivilege ? "UXNTable" : "XNTable");
                if ((_tableAttrs & Descriptor.PxnTable) != 0) t.Add("PXNTable");
                sb.Append(" TBL:").Append(string.Join(',', t));
            }
            return sb.ToString();
        }

        // Linux ptdump note_page: the size in the largest unit that divides it.
        private static string Size(ulong length)
        {
            const string units = "KMGTPE";
            ulong delta = length >> 10;
            int u = 0;
            while ((delta & 1023) == 0 && u < units.Length - 1 && delta != 0)
            {
                delta >>= 10;
                u++;
            }
            return $"{delta,9}{units[u]}";
        }
    }
}
