namespace Arm64Mmu.Exploration;

/// <summary>A register value with what it denotes.</summary>
internal readonly record struct Value(ulong Bits, LitmusValueKind Kind)
{
    public static Value Int(ulong v) => new(v, LitmusValueKind.Integer);
}

/// <summary>The register-only instructions (ALU, compare, select), condition codes and LSE atomic operations (Arm ARM C6).</summary>
internal static class InstructionSemantics
{
    /// <summary>Result of an ALU instruction from its operands; kinds follow herd7 (bit operations on a descriptor keep a descriptor).</summary>
    public static Value Alu(LitmusInstruction i, Value a, Value b)
    {
        if (i.Extend != OperandExtend.None)
        {
            ulong e = i.Extend switch
            {
                OperandExtend.Sxtw => (ulong)(long)(int)(uint)b.Bits,
                OperandExtend.Uxtw => b.Bits & 0xFFFF_FFFFUL,
                _ => b.Bits,
            };
            b = Value.Int(e << i.ExtendShift);
        }
        ulong r = i.Opcode switch
        {
            LitmusOpcode.Mov => b.Bits,
            LitmusOpcode.Add => a.Bits + b.Bits,
            LitmusOpcode.Sub => a.Bits - b.Bits,
            LitmusOpcode.And => a.Bits & b.Bits,
            LitmusOpcode.Orr => a.Bits | b.Bits,
            LitmusOpcode.Eor => a.Bits ^ b.Bits,
            LitmusOpcode.Bic => a.Bits & ~b.Bits,
            LitmusOpcode.Lsl => b.Bits >= 64 ? 0 : a.Bits << (int)b.Bits,
            LitmusOpcode.Lsr => b.Bits >= 64 ? 0 : a.Bits >> (int)b.Bits,
            _ => throw new InvalidOperationException($"not an ALU instruction: {i.Text}"),
        };
        var kind = LitmusValueKind.Integer;
        switch (i.Opcode)
        {
            case LitmusOpcode.Mov: kind = b.Kind; break;
            case LitmusOpcode.Add or LitmusOpcode.Sub when a.Kind is LitmusValueKind.VirtualAddress or LitmusValueKind.DescriptorAddress or LitmusValueKind.PhysicalAddress && b.Kind == LitmusValueKind.Integer:
                kind = a.Kind; break;
            case LitmusOpcode.Orr or LitmusOpcode.Bic or LitmusOpcode.Eor when a.Kind == LitmusValueKind.Descriptor && b.Kind == LitmusValueKind.Integer && b.Bits != 0:
                kind = LitmusValueKind.Descriptor; break;
        }
        if (!i.Rd.Wide) { r &= 0xFFFF_FFFFUL; if (kind != LitmusValueKind.Integer) kind = LitmusValueKind.Integer; }
        return new Value(r, kind);
    }

    /// <summary>NZCV of <c>a − b</c> at the given width (SUBS).</summary>
    public static int Compare(ulong a, ulong b, bool wide)
    {
        if (!wide) { a &= 0xFFFF_FFFFUL; b &= 0xFFFF_FFFFUL; }
        ulong r = a - b;
        if (!wide) r &= 0xFFFF_FFFFUL;
        int sign = wide ? 63 : 31;
        bool n = ((r >> sign) & 1) != 0;
        bool z = r == 0;
        bool c = a >= b; // no borrow
        bool v = ((((a ^ b) & (a ^ r)) >> sign) & 1) != 0;
        return (n ? 8 : 0) | (z ? 4 : 0) | (c ? 2 : 0) | (v ? 1 : 0);
    }

    /// <summary>Whether a condition holds for NZCV (Arm ARM ConditionHolds).</summary>
    public static bool Holds(string cond, int nzcv)
    {
        bool n = (nzcv & 8) != 0, z = (nzcv & 4) != 0, c = (nzcv & 2) != 0, v = (nzcv & 1) != 0;
        return cond switch
        {
            "EQ" => z, "NE" => !z, "CS" or "HS" => c, "CC" or "LO" => !c, "MI" => n, "PL" => !n, "VS" => v, "VC" => !v,
            "HI" => c && !z, "LS" => !c || z, "GE" => n == v, "LT" => n != v, "GT" => !z && n == v, "LE" => z || n != v,
            _ => true,
        };
    }

    /// <summary>The new memory value of an LSE atomic.</summary>
    public static ulong Atomic(AtomicOperation op, ulong old, ulong operand) => op switch
    {
        AtomicOperation.Add => old + operand,
        AtomicOperation.Clr => old & ~operand,
        AtomicOperation.Set => old | operand,
        _ => old ^ operand,
    };

    /// <summary>Truncates to the access size.</summary>
    public static ulong Truncate(ulong v, int size) => size == 8 ? v : v & 0xFFFF_FFFFUL;
}
