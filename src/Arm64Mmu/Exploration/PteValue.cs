using System.Globalization;
using System.Text;
using Arm64Mmu.Architecture;

namespace Arm64Mmu.Exploration;

/// <summary>
/// A translation-table descriptor written as herd7 writes it: <c>(oa:PA(x), af:0, db:0, dbm:1, valid:0, el0:0)</c>.
/// Fields left out take herd7's defaults (valid:1, af:1, db:1, dbm:0, el0:1, x:1); only fields that differ are printed,
/// in herd7's order. The record maps onto the real VMSAv8-64 stage-1 page descriptor bits herd7 itself uses:
/// valid = bit 0, el0 = AP[1] (bit 6), db = NOT AP[2] (bit 7: "dirty" means writable), af = AF (bit 10),
/// dbm = DBM (bit 51), x = NOT UXN (bit 54).
/// </summary>
/// <param name="OutputSymbol">The variable whose physical page is the output address (<c>oa:PA(x)</c> or <c>oa:phy_x</c>); null when the record leaves it to the context (the descriptor's own variable).</param>
/// <param name="Valid">valid field.</param>
/// <param name="Af">af field.</param>
/// <param name="Db">db field (1 = writable).</param>
/// <param name="Dbm">dbm field.</param>
/// <param name="El0">el0 field (1 = EL0 may access).</param>
/// <param name="Executable">x field (1 = executable).</param>
public readonly record struct PteValue(string? OutputSymbol, int Valid = 1, int Af = 1, int Db = 1, int Dbm = 0, int El0 = 1, int Executable = 1)
{
    /// <summary>Names of the fields a record may set, besides oa.</summary>
    public static readonly string[] FieldNames = ["valid", "af", "db", "dbm", "el0", "x"];

    /// <summary>Returns a copy with one field set; throws <see cref="FormatException"/> for an unknown field or a value other than 0/1.</summary>
    public PteValue With(string field, int value)
    {
        if (value is not (0 or 1)) throw new FormatException($"descriptor field {field}:{value}: allowed 0 or 1");
        return field switch
        {
            "valid" => this with { Valid = value },
            "af" => this with { Af = value },
            "db" => this with { Db = value },
            "dbm" => this with { Dbm = value },
            "el0" => this with { El0 = value },
            "x" => this with { Executable = value },
            _ => throw new FormatException($"unknown descriptor field '{field}' (allowed oa, {string.Join(", ", FieldNames)})"),
        };
    }

    /// <summary>The descriptor bits (other than the output address) of a level-3 page descriptor: page type, Normal memory (AttrIndx 0), Inner Shareable.</summary>
    public ulong AttributeBits()
    {
        ulong d = Descriptor.TableOrPage | (3UL << Descriptor.ShShift);
        if (Valid != 0) d |= Descriptor.Valid;
        if (El0 != 0) d |= Descriptor.Ap1;
        if (Db == 0) d |= Descriptor.Ap2;
        if (Af != 0) d |= Descriptor.Af;
        if (Dbm != 0) d |= Descriptor.Dbm;
        if (Executable == 0) d |= Descriptor.Uxn;
        return d;
    }

    /// <summary>The fields of a descriptor (the output symbol is resolved by the caller).</summary>
    public static PteValue FromDescriptor(ulong d, string? outputSymbol) => new(outputSymbol,
        Valid: (int)(d & Descriptor.Valid),
        Af: (d & Descriptor.Af) != 0 ? 1 : 0,
        Db: (d & Descriptor.Ap2) != 0 ? 0 : 1,
        Dbm: (d & Descriptor.Dbm) != 0 ? 1 : 0,
        El0: (d & Descriptor.Ap1) != 0 ? 1 : 0,
        Executable: (d & Descriptor.Uxn) != 0 ? 0 : 1);

    /// <summary>herd7's notation: oa first, then the fields that differ from the defaults in the order af, db, dbm, valid, el0, x.</summary>
    public string Format()
    {
        var sb = new StringBuilder("(oa:PA(").Append(OutputSymbol).Append(')');
        void Field(string name, int v, int def) { if (v != def) sb.Append(", ").Append(name).Append(':').Append(v.ToString(CultureInfo.InvariantCulture)); }
        Field("af", Af, 1);
        Field("db", Db, 1);
        Field("dbm", Dbm, 0);
        Field("valid", Valid, 1);
        Field("el0", El0, 1);
        Field("x", Executable, 1);
        return sb.Append(')').ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Format();
}
