using Arm64Mmu.Memory;
using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;

namespace Arm64Mmu.PageTables;

/// <summary>
/// Chooses the TLBIs for an <see cref="InvalidationRequest"/> the way Linux does (arch/arm64/include/asm/tlbflush.h,
/// v6.9–v6.16; docs/page-tables.md, "Which TLBI"): a full flush when the span exceeds the limits of
/// <c>__flush_tlb_range_limit_excess</c>, otherwise <c>__flush_tlb_range_op</c> — by-address TLBIs, or range TLBIs with
/// SCALE decreasing from 3 (commit e2768b798a19) and the LPA2 BaseADDR format when DS=1.
/// </summary>
public static class TlbInvalidation
{
    /// <summary>Most pages one range TLBI can cover: __TLBI_RANGE_PAGES(31, 3) = 2^21 (Linux MAX_TLBI_RANGE_PAGES).</summary>
    public const ulong MaxRangePages = 1UL << 21;

    /// <summary>The TLBI instructions (no barriers) that invalidate a request for a space's regime.</summary>
    /// <param name="definition">The address space (regime, granule, ASID, DS).</param>
    /// <param name="request">What changed.</param>
    /// <param name="options">Maintenance options (range, TTL, broadcast, narrowing).</param>
    /// <param name="features">The issuing PE's features (FEAT_TLBIRANGE, FEAT_TTL when the options leave them open).</param>
    public static IReadOnlyList<MaintenanceStep> Instructions(AddressSpaceDefinition definition, in InvalidationRequest request, MaintenanceOptions options, ProcessorFeatures features)
    {
        var steps = new List<MaintenanceStep>();
        Append(steps, definition, request, options, features);
        return steps;
    }

    /// <summary>Appends the TLBIs; returns true when a full flush (by ASID, VMALLE1, ALLE2 or VMALLS12E1) was chosen.</summary>
    internal static bool Append(List<MaintenanceStep> steps, AddressSpaceDefinition def, in InvalidationRequest r, MaintenanceOptions o, ProcessorFeatures f)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(f);
        var g = def.Geometry.Granule;
        int pageShift = (int)g;
        ulong page = 1UL << pageShift;
        ulong stride = r.Stride;
        if (stride < page || (stride & (stride - 1)) != 0)
            throw new ArgumentException($"stride 0x{stride:x} must be a power of two of at least the {g.Name()} granule", nameof(r));
        if (r.Length == 0) return false;
        bool range = o.UseRangeTlbi ?? f.TlbiRange;
        bool ttl = o.UseTtl ?? f.Ttl;
        int? level = r.Level;
        bool last = (r.LastLevel && o.LastLevelOps) || o.Narrowing == TlbiNarrowing.LastLevelOnly;
        if (o.Narrowing == TlbiNarrowing.WrongLevelHint)
        {
            ttl = true;
            level = (level ?? 3) == 3 ? 2 : level + 1;
        }
        var ops = new Ops(def, o, g, last, o.Narrowing == TlbiNarrowing.LastLevelOnly);

        // Linux __flush_tlb_range_nosync: round to the stride, count pages of PAGE_SIZE (modular arithmetic keeps
        // ranges that end at the top of the TTBR1 half right).
        ulong start = r.Start & ~(stride - 1);
        ulong end = (r.Start + r.Length + stride - 1) & ~(stride - 1);
        ulong span = end - start;
        ulong pages = span >> pageShift;
        if (span == 0) pages = ulong.MaxValue; // the whole 2^64 space
        if (o.Narrowing == TlbiNarrowing.FirstEntryOnly)
        {
            ops.Va(steps, start, ttl ? level : null);
            return false;
        }
        // EL2&0 global mappings: walk-cache entries are never global (R_CHVGJ) and carry the ASID they were walked with,
        // and EL2 has no all-ASID by-VA form (no VAAE2), so removed tables are flushed whole (ALLE2).
        if (def.Regime == Regime.El20 && !def.HasAsid && !last)
        {
            ops.Full(steps, r.AnyGlobal);
            return true;
        }
        ulong maxDvm = (ulong)(o.MaxDvmOps ?? 1 << def.Geometry.Stride);
        // __flush_tlb_range_limit_excess (commit 7ffc13e23395).
        if ((!range && (span == 0 || span / stride >= maxDvm)) || pages > MaxRangePages)
        {
            ops.Full(steps, r.AnyGlobal);
            return true;
        }
        bool lpa2 = o.Lpa2RangeFormat ?? def.Geometry.Format == Descriptor.AddressFormat.Lpa2;
        int rangeTtl = level is >= 1 and <= 3 ? level.Value : 0;
        ulong stridePages = stride >> pageShift;
        ulong addr = start;
        ulong left = pages;
        int scale = 3;
        while (left > 0)
        {
            if (!range || left == 1 || scale < 0 || (lpa2 && (addr & 0xFFFF) != 0))
            {
                ops.Va(steps, addr, ttl ? level : null);
                addr += stride;
                left = left > stridePages ? left - stridePages : 0;
                continue;
            }
            // __TLBI_RANGE_NUM (with Gavin Shan's 2024 fix): the number of 2^(5·scale+1)-page chunks, minus one.
            long num = (long)(Math.Min(left, TlbiOperand.RangePages(scale, 31)) >> (5 * scale + 1)) - 1;
            if (num >= 0)
            {
                ops.Range(steps, addr, scale, (int)num, lpa2, rangeTtl);
                ulong n = TlbiOperand.RangePages(scale, (int)num);
                addr += n << pageShift;
                left -= n;
            }
            scale--;
        }
        return false;
    }

    /// <summary>The TLBI forms of one regime and reach.</summary>
    private readonly struct Ops
    {
        private readonly AddressSpaceDefinition _def;
        private readonly MaintenanceOptions _o;
        private readonly Granule _g;
        private readonly TlbiOp _va, _range, _full;
        private readonly ushort _asid;
        private readonly bool _userAsid;

        public Ops(AddressSpaceDefinition def, MaintenanceOptions o, Granule g, bool last, bool stage2LastLevel)
        {
            _def = def;
            _o = o;
            _g = g;
            _asid = def.Asid ?? 0;
            _userAsid = o.KptiUserAsid && def.HasAsid;
            var regime = def.Regime;
            (_va, _range, _full) =
                regime == Regime.El10 && def.HasAsid ? (last ? (TlbiOp.Vale1Is, TlbiOp.Rvale1Is, TlbiOp.Aside1Is) : (TlbiOp.Vae1Is, TlbiOp.Rvae1Is, TlbiOp.Aside1Is))
                : regime == Regime.El10 ? (last ? (TlbiOp.Vaale1Is, TlbiOp.Rvaale1Is, TlbiOp.Vmalle1Is) : (TlbiOp.Vaae1Is, TlbiOp.Rvaae1Is, TlbiOp.Vmalle1Is))
                : regime.IsEl2 ? (last ? (TlbiOp.Vale2Is, TlbiOp.Rvale2Is, TlbiOp.Alle2Is) : (TlbiOp.Vae2Is, TlbiOp.Rvae2Is, TlbiOp.Alle2Is))
                // KVM invalidates stage 2 with the non-last-level forms (__kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid_range).
                : stage2LastLevel ? (TlbiOp.Ipas2le1Is, TlbiOp.Ripas2le1Is, TlbiOp.Vmalls12e1Is) : (TlbiOp.Ipas2e1Is, TlbiOp.Ripas2e1Is, TlbiOp.Vmalls12e1Is);
        }

        private TlbiOp Reach(TlbiOp op) => _o.Broadcast ? op : op.WithShareability(TlbiShareability.NonShareable) ?? op;

        private void Emit(List<MaintenanceStep> steps, TlbiOp op, ulong operand, bool byAsid)
        {
            steps.Add(MaintenanceStep.Tlbi(Reach(op), operand));
            // KPTI: __tlbi_user repeats the operation for the user ASID (ASID | 1, TTBR bit 48 = USER_ASID_FLAG).
            if (byAsid && _userAsid) steps.Add(MaintenanceStep.Tlbi(Reach(op), operand | 1UL << 48));
        }

        public void Va(List<MaintenanceStep> steps, ulong address, int? level)
        {
            int? ttl = level is >= 0 and <= 3 ? level : null;
            if (_def.Regime.IsStage2)
                Emit(steps, _va, TlbiOperand.Ipa(new IntermediatePhysicalAddress(address), ttl, _g), false);
            else
                Emit(steps, _va, TlbiOperand.Va(new VirtualAddress(address), _def.HasAsid ? _asid : (ushort)0, ttl, _g), _def.HasAsid);
        }

        public void Range(List<MaintenanceStep> steps, ulong address, int scale, int num, bool lpa2, int ttl)
        {
            ushort asid = _def.HasAsid ? _asid : (ushort)0;
            Emit(steps, _range, TlbiOperand.RangeOperand(address, scale, num, _g, lpa2, asid, ttl), _def.HasAsid);
        }

        public void Full(List<MaintenanceStep> steps, bool anyGlobal)
        {
            // flush_tlb_mm (by ASID) for a user space, unless a global leaf changed; flush_tlb_all for kernel mappings;
            // ALLE2 for EL2 and EL2&0 (there is no ASIDE2); __kvm_tlb_flush_vmid (VMALLS12E1) for stage 2.
            if (_full == TlbiOp.Aside1Is && anyGlobal)
                Emit(steps, TlbiOp.Vmalle1Is, 0, false);
            else if (_full == TlbiOp.Aside1Is)
                Emit(steps, TlbiOp.Aside1Is, (ulong)_asid << 48, true);
            else
                Emit(steps, _full, 0, false);
        }
    }
}
