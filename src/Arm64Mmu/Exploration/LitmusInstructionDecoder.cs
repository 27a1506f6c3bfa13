using System.Globalization;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.Exploration;

/// <summary>Decodes the text of one litmus instruction (herd7's AArch64 syntax) into a <see cref="LitmusInstruction"/>.</summary>
public static class LitmusInstructionDecoder
{
    private static readonly string[] Conditions = ["EQ", "NE", "CS", "HS", "CC", "LO", "MI", "PL", "VS", "VC", "HI", "LS", "GE", "LT", "GT", "LE", "AL"];

    /// <summary>Decodes <paramref name="text"/>.</summary>
    /// <exception cref="LitmusFormatException">Malformed operands.</exception>
    /// <exception cref="LitmusUnsupportedException">An instruction the explorer does not model.</exception>
    public static LitmusInstruction Decode(string text)
    {
        string t = text.Trim();
        int sp = t.IndexOfAny([' ', '\t']);
        string mnemonic = (sp < 0 ? t : t[..sp]).ToUpperInvariant();
        var ops = sp < 0 ? new List<string>() : SplitOperands(t[(sp + 1)..]);
        var b = new LitmusInstruction { Opcode = LitmusOpcode.Nop, Text = t };

        switch (mnemonic)
        {
            case "NOP": Count(ops, 0, t); return b;
            case "ISB": Count(ops, 0, t); return b with { Opcode = LitmusOpcode.Isb };
            case "ERET": Count(ops, 0, t); return b with { Opcode = LitmusOpcode.Eret };
            case "DMB": case "DSB":
                return b with { Opcode = mnemonic == "DMB" ? LitmusOpcode.Dmb : LitmusOpcode.Dsb, Barrier = BarrierOption(ops, t) };
            case "MOV":
                Count(ops, 2, t);
                return SourceOperand(b with { Opcode = LitmusOpcode.Mov, Rd = Reg(ops[0], t) }, ops[1], t);
            case "ADD": case "SUB": case "AND": case "ORR": case "EOR": case "BIC": case "LSL": case "LSR":
            {
                if (ops.Count == 4 && mnemonic is "ADD" or "SUB" or "AND" or "ORR" or "EOR" or "BIC")
                {
                    var ext = SourceOperand(b with { Opcode = mnemonic switch
                    {
                        "ADD" => LitmusOpcode.Add, "SUB" => LitmusOpcode.Sub, "AND" => LitmusOpcode.And, "ORR" => LitmusOpcode.Orr,
                        "EOR" => LitmusOpcode.Eor, _ => LitmusOpcode.Bic,
                    }, Rd = Reg(ops[0], t), Rn = Reg(ops[1], t) }, ops[2], t);
                    if (ext.HasImmediate) throw new LitmusFormatException($"'{t}': an extend needs a register operand");
                    return WithExtend(ext, ops[3], t);
                }
                Count(ops, 3, t);
                var op = mnemonic switch
                {
                    "ADD" => LitmusOpcode.Add, "SUB" => LitmusOpcode.Sub, "AND" => LitmusOpcode.And, "ORR" => LitmusOpcode.Orr,
                    "EOR" => LitmusOpcode.Eor, "BIC" => LitmusOpcode.Bic, "LSL" => LitmusOpcode.Lsl, _ => LitmusOpcode.Lsr,
                };
                var i = SourceOperand(b with { Opcode = op, Rd = Reg(ops[0], t), Rn = Reg(ops[1], t) }, ops[2], t);
                if (op is LitmusOpcode.Lsl or LitmusOpcode.Lsr && !i.HasImmediate)
                    throw new LitmusUnsupportedException($"'{t}': shifts by a register are not modelled");
                return i;
            }
            case "CMP":
                Count(ops, 2, t);
                return SourceOperand(b with { Opcode = LitmusOpcode.Cmp, Rn = Reg(ops[0], t) }, ops[1], t);
            case "CSEL":
                Count(ops, 4, t);
                return b with { Opcode = LitmusOpcode.Csel, Rd = Reg(ops[0], t), Rn = Reg(ops[1], t), Rm = Reg(ops[2], t), Condition = Cond(ops[3], t) };
            case "CSET":
                Count(ops, 2, t);
                return b with { Opcode = LitmusOpcode.Cset, Rd = Reg(ops[0], t), Condition = Cond(ops[1], t) };
            case "ADR":
                Count(ops, 2, t);
                return b with { Opcode = LitmusOpcode.Adr, Rd = Reg(ops[0], t), Target = Label(ops[1], t) };
            case "MSR":
                Count(ops, 2, t);
                if (!ops[0].Equals("ELR_EL1", StringComparison.OrdinalIgnoreCase))
                    throw new LitmusUnsupportedException($"'{t}': only MSR ELR_EL1 is modelled");
                return b with { Opcode = LitmusOpcode.MsrElr, Rn = Reg(ops[1], t) };
            case "B":
                Count(ops, 1, t);
                return b with { Opcode = LitmusOpcode.B, Target = Label(ops[0], t) };
            case "CBZ": case "CBNZ":
                Count(ops, 2, t);
                return b with { Opcode = mnemonic == "CBZ" ? LitmusOpcode.Cbz : LitmusOpcode.Cbnz, Rn = Reg(ops[0], t), Target = Label(ops[1], t) };
            case "TLBI":
                return DecodeTlbi(b, ops, t);
        }
        if (mnemonic.StartsWith("B.", StringComparison.Ordinal))
        {
            Count(ops, 1, t);
            return b with { Opcode = LitmusOpcode.BCond, Condition = Cond(mnemonic[2..], t), Target = Label(ops[0], t) };
        }
        return DecodeMemory(b, mnemonic, ops, t);
    }

    private static LitmusInstruction DecodeMemory(LitmusInstruction b, string m, List<string> ops, string t)
    {
        switch (m)
        {
            case "LDR": case "LDAR": case "LDAPR":
                Count(ops, 2, t);
                return b with { Opcode = LitmusOpcode.Load, Rd = Reg(ops[0], t), Address = Addr(ops[1], t), Acquire = m == "LDAR", AcquirePc = m == "LDAPR" };
            case "STR": case "STLR":
                Count(ops, 2, t);
                return b with { Opcode = LitmusOpcode.Store, Rd = Reg(ops[0], t), Address = Addr(ops[1], t), Release = m == "STLR" };
            case "LDXR": case "LDAXR":
                Count(ops, 2, t);
                return b with { Opcode = LitmusOpcode.LoadExclusive, Rd = Reg(ops[0], t), Address = Addr(ops[1], t), Acquire = m == "LDAXR" };
            case "STXR": case "STLXR":
                Count(ops, 3, t);
                return b with { Opcode = LitmusOpcode.StoreExclusive, Rs = Reg(ops[0], t), Rd = Reg(ops[1], t), Address = Addr(ops[2], t), Release = m == "STLXR" };
        }
        if (TrySplitOrdering(m, "SWP", out bool a, out bool l))
        {
            Count(ops, 3, t);
            return b with { Opcode = LitmusOpcode.Swap, Rs = Reg(ops[0], t), Rd = Reg(ops[1], t), Address = Addr(ops[2], t), Acquire = a, Release = l };
        }
        if (TrySplitOrdering(m, "CAS", out a, out l))
        {
            Count(ops, 3, t);
            return b with { Opcode = LitmusOpcode.CompareAndSwap, Rs = Reg(ops[0], t), Rd = Reg(ops[1], t), Address = Addr(ops[2], t), Acquire = a, Release = l };
        }
        foreach (var (name, op) in new[] { ("ADD", AtomicOperation.Add), ("CLR", AtomicOperation.Clr), ("SET", AtomicOperation.Set), ("EOR", AtomicOperation.Eor) })
        {
            if (TrySplitOrdering(m, "LD" + name, out a, out l))
            {
                Count(ops, 3, t);
                return b with { Opcode = LitmusOpcode.AtomicLoad, Atomic = op, Rs = Reg(ops[0], t), Rd = Reg(ops[1], t), Address = Addr(ops[2], t), Acquire = a, Release = l };
            }
            if (TrySplitOrdering(m, "ST" + name, out a, out l) && !a)
            {
                Count(ops, 2, t);
                var rs = Reg(ops[0], t);
                // ST<op> is LD<op> with the zero register as destination (Arm ARM C6.2 alias); the access size follows Rs.
                return b with { Opcode = LitmusOpcode.AtomicStore, Atomic = op, Rs = rs, Rd = new LitmusRegister(31, rs.Wide), Address = Addr(ops[1], t), Release = l };
            }
        }
        throw new LitmusUnsupportedException($"instruction '{t}' is not modelled");
    }

    private static LitmusInstruction DecodeTlbi(LitmusInstruction b, List<string> ops, string t)
    {
        if (ops.Count is < 1 or > 2) throw new LitmusFormatException($"'{t}': TLBI takes an operation and at most one register");
        var op = TlbiOps.Parse(ops[0]) ?? throw new LitmusUnsupportedException($"'{t}': unknown TLBI operation '{ops[0]}'");
        var info = op.Info();
        if (!info.IsEl1Form)
            throw new LitmusUnsupportedException($"'{t}': only EL1&0 TLBIs are modelled (the threads run at EL1/EL0 without EL2)");
        bool needs = info.HasAddress || info.HasAsid;
        if (needs != (ops.Count == 2)) throw new LitmusFormatException($"'{t}': TLBI {info.Name} {(needs ? "needs" : "takes no")} register operand");
        return b with { Opcode = LitmusOpcode.Tlbi, TlbiOp = op, HasTlbiOperand = needs, Rn = needs ? Reg(ops[1], t) : default };
    }

    private static LitmusInstruction WithExtend(LitmusInstruction i, string op, string t)
    {
        var parts = op.Trim().Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
        var kind = parts[0].ToUpperInvariant() switch
        {
            "SXTW" => OperandExtend.Sxtw,
            "UXTW" => OperandExtend.Uxtw,
            "LSL" => OperandExtend.Lsl,
            _ => throw new LitmusUnsupportedException($"'{t}': operand extend '{parts[0]}' is not modelled (allowed SXTW, UXTW, LSL #n)"),
        };
        int shift = parts.Length > 1 ? (int)Imm(parts[1], t) : 0;
        if (shift is < 0 or > 63 || (kind == OperandExtend.Lsl && parts.Length < 2)) throw new LitmusFormatException($"'{t}': shift amount must be #0 to #63");
        if (kind != OperandExtend.Lsl && i.Rm.Wide) throw new LitmusFormatException($"'{t}': {parts[0]} extends a W register");
        return i with { Extend = kind, ExtendShift = shift };
    }

    private static bool TrySplitOrdering(string m, string stem, out bool acquire, out bool release)
    {
        acquire = release = false;
        if (!m.StartsWith(stem, StringComparison.Ordinal)) return false;
        string rest = m[stem.Length..];
        switch (rest)
        {
            case "": return true;
            case "A": acquire = true; return true;
            case "L": release = true; return true;
            case "AL": acquire = release = true; return true;
            default: return false;
        }
    }

    private static BarrierKind BarrierOption(List<string> ops, string t)
    {
        string o = ops.Count == 0 ? "SY" : ops.Count == 1 ? ops[0].Trim().ToUpperInvariant() : throw new LitmusFormatException($"'{t}': one barrier option expected");
        return o switch
        {
            "SY" or "ISH" or "NSH" or "OSH" => BarrierKind.Full,
            "LD" or "ISHLD" or "NSHLD" or "OSHLD" => BarrierKind.Load,
            "ST" or "ISHST" or "NSHST" or "OSHST" => BarrierKind.Store,
            _ => throw new LitmusFormatException($"'{t}': barrier option '{o}' (allowed SY, ISH, NSH, OSH and their LD/ST forms)"),
        };
    }

    private static LitmusInstruction SourceOperand(LitmusInstruction i, string op, string t)
    {
        if (LitmusRegister.TryParse(op, out var r)) return i with { Rm = r };
        return i with { Immediate = Imm(op, t), HasImmediate = true };
    }

    private static void Count(List<string> ops, int n, string t)
    {
        if (ops.Count != n) throw new LitmusFormatException($"'{t}': {n} operand(s) expected, found {ops.Count}");
    }

    private static LitmusRegister Reg(string s, string t)
        => LitmusRegister.TryParse(s, out var r) ? r : throw new LitmusFormatException($"'{t}': '{s.Trim()}' is not a register (X0–X30, W0–W30, XZR, WZR)");

    private static string Cond(string s, string t)
    {
        string c = s.Trim().ToUpperInvariant();
        return Array.IndexOf(Conditions, c) >= 0 ? c : throw new LitmusFormatException($"'{t}': unknown condition '{s.Trim()}'");
    }

    private static string Label(string s, string t)
    {
        string l = s.Trim();
        if (l.Length == 0 || !(char.IsLetter(l[0]) || l[0] == '_') || !l.All(c => char.IsLetterOrDigit(c) || c == '_'))
            throw new LitmusFormatException($"'{t}': '{l}' is not a label");
        return l;
    }

    /// <summary>Parses <c>#12</c>, <c>12</c>, <c>#0x10</c>, <c>-1</c>.</summary>
    internal static long Imm(string s, string t)
    {
        string v = s.Trim();
        if (v.StartsWith('#')) v = v[1..].Trim();
        bool neg = v.StartsWith('-');
        if (neg) v = v[1..];
        bool ok = v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(v.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long n)
            : long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out n);
        if (!ok) throw new LitmusFormatException($"'{t}': '{s.Trim()}' is not a register or an immediate");
        return neg ? -n : n;
    }

    private static LitmusAddress Addr(string s, string t)
    {
        string a = s.Trim();
        if (!a.StartsWith('[') || !a.EndsWith(']')) throw new LitmusFormatException($"'{t}': memory operand '{a}' must be [Xn], [Xn,#imm], [Xn,Xm] or [Xn,Wm,SXTW]");
        var parts = a[1..^1].Split(',').Select(p => p.Trim()).ToList();
        var bas = Reg(parts[0], t);
        if (!bas.Wide) throw new LitmusFormatException($"'{t}': the base register must be an X register");
        if (parts.Count == 1) return new LitmusAddress(bas, null, false, 0);
        if (LitmusRegister.TryParse(parts[1], out var idx))
        {
            if (parts.Count == 2)
            {
                if (!idx.Wide) throw new LitmusFormatException($"'{t}': a W index needs an extend (SXTW or UXTW)");
                return new LitmusAddress(bas, idx, false, 0);
            }
            string ext = parts[2].ToUpperInvariant();
            if (parts.Count == 3 && ext is "SXTW" or "UXTW" && !idx.Wide) return new LitmusAddress(bas, idx, ext == "SXTW", 0);
            throw new LitmusUnsupportedException($"'{t}': index extend '{parts[2]}' is not modelled (allowed SXTW, UXTW)");
        }
        if (parts.Count != 2) throw new LitmusFormatException($"'{t}': memory operand '{a}' has too many parts");
        return new LitmusAddress(bas, null, false, Imm(parts[1], t));
    }

    /// <summary>Splits operands at top-level commas (not inside brackets).</summary>
    internal static List<string> SplitOperands(string s)
    {
        var list = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '[') depth++;
            else if (c == ']') depth--;
            else if (c == ',' && depth == 0) { list.Add(s[start..i].Trim()); start = i + 1; }
        }
        string last = s[start..].Trim();
        if (last.Length > 0 || list.Count > 0) list.Add(last);
        return list;
    }
}
