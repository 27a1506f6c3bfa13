using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.PageTables;
using Arm64Mmu.Setups;
using Arm64Mmu.Timing;
using Arm64Mmu.Tlb;
using Arm64Mmu.Translation;
using FsCheck;
using FsCheck.Fluent;

namespace Arm64Mmu.Tests.Machine;

/// <summary>
/// The PE's path (fast L1 hits, L2 hits, walks resumed from walk-cache and IPA-cache entries, hardware updates) against
/// a fresh walk of the same memory with no cache: random stage-1 (and stage-2) tables with random attributes, random
/// edits made with full break-before-make maintenance, random loads, stores and fetches on random PEs at EL0 and EL1
/// with PSTATE.PAN toggled. After full maintenance a PE may hold nothing that a walk of memory would not give
/// (R_SQBCS: what it holds was read from the tables; the TLBIs removed everything the edits changed), so every access
/// must give exactly what the walk gives: the fault (kind, level, stage, S1PTW, IPA), the PA, the data, the
/// attributes, shareability and permissions of the translation used, and the descriptor as the hardware update
/// leaves it (Access flag set; AP[2] cleared, S2AP[1] set by a write to a writable-clean page; Arm ARM D8.5).
/// </summary>
public class PeMatchesWalkerProperties
{
    private const ulong Base = 0x0000_0040_0000_0000UL;     // 16 pages, each its own slot
    private const ulong BlockVa = Base + 0x20_0000;          // a 2 MiB block or 16 pages
    private const ulong GiantVa = 0x0000_0040_4000_0000UL;   // a 1 GiB block (larger than a Cortex-A53 entry)
    private const ulong DataIpa = 0x8000_0000UL;             // stage-1 outputs: 64 pages of IPA (or PA without stage 2)
    private const ulong BlockIpa = 0x8040_0000UL;            // the 2 MiB block's output
    private const ulong GiantIpa = 0xC000_0000UL;            // the 1 GiB block's output
    private const ulong DataPa = 0x1_0000_0000UL;            // where stage 2 maps the data IPAs
    private const ulong S1Tables = 0x4000_0000UL, S2Tables = 0x5000_0000UL;
    private const ushort Asid = 1;

    public sealed record Case(int Pes, int Profile, bool Stage2, bool Ha, bool Hd, bool S2Ha, bool S2Hd, bool Observe, int Seed, int Ops);

    private static readonly Gen<Case> Cases =
        from pes in Gen.Choose(1, 3)
        from profile in Gen.Choose(0, 2)
        from stage2 in Gen.Elements(false, true)
        from ha in Gen.Elements(false, true)
        from hd in Gen.Elements(false, true)
        from s2ha in Gen.Elements(false, true)
        from s2hd in Gen.Elements(false, true)
        from observe in Gen.Elements(false, false, true)
        from seed in Gen.Choose(0, int.MaxValue)
        from ops in Gen.Choose(40, 160)
        select new Case(pes, profile, stage2, ha, hd, s2ha, s2hd, observe, seed, ops);

    private sealed class Coverage
    {
        public int Accesses, Faults, Successes, Stage1Updates, Stage2Updates, FastHits, Edits, Observed, AtChecks;
    }

    [Fact]
    public void EveryPeAccessGivesWhatAFreshWalkOfMemoryGives()
    {
        var cov = new Coverage();
        Prop.ForAll(Cases.ToArbitrary(), c => Run(c, cov)).Check(PropertyConfig.Runs(60));
        cov.Accesses.Should().BeGreaterThan(3000);
        cov.Faults.Should().BeGreaterThan(300, "faults of every kind are compared too");
        cov.Successes.Should().BeGreaterThan(1000);
        cov.Stage1Updates.Should().BeGreaterThan(50, "hardware Access-flag and dirty updates of stage-1 descriptors are exercised");
        cov.Stage2Updates.Should().BeGreaterThan(20, "and of stage-2 descriptors");
        cov.FastHits.Should().BeGreaterThan(200, "the L1 hit path is exercised");
        cov.Observed.Should().BeGreaterThan(500, "full results (attributes, permissions) are compared");
        cov.AtChecks.Should().BeGreaterThan(500);
        cov.Edits.Should().BeGreaterThan(300);
    }

    /// <summary>The world of one case: tables, the machine and a random stream of operations.</summary>
    private sealed class World : IMachineObserver
    {
        private readonly Case _c;
        private readonly Random _rng;
        private readonly TableBuilder _s1;
        private readonly TableBuilder? _s2;
        private readonly Walker _reference;
        private readonly Coverage _cov;
        public readonly Arm64Mmu.Machine.Machine M;
        public WalkResult? Used;

        public World(Case c, Coverage cov)
        {
            _c = c;
            _cov = cov;
            _rng = new Random(c.Seed);
            var profile = c.Profile switch { 0 => CoreProfile.NeoverseN1, 1 => CoreProfile.CortexA53, _ => CoreProfile.NeoverseV2 };
            M = new MachineBuilder().WithProcessingElements(c.Pes).WithProfile(profile).WithFeatures(ProcessorFeatures.QemuMax)
                .WithInitialExceptionLevel(2).Build();
            _reference = new Walker(M.Memory);
            _s1 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S1Tables), 0x10_0000), Geometries.Stage1(Granule.Size4K, 48));
            for (int i = 0; i < 16; i++) _s1.Map(new VirtualAddress(Base + (ulong)i * 0x1000), new PhysicalAddress(DataIpa + (ulong)_rng.Next(64) * 0x1000), 3, RandomS1Leaf(true));
            _s1.Map(new VirtualAddress(BlockVa), new PhysicalAddress(BlockIpa), 2, RandomS1Leaf(false));
            _s1.Map(new VirtualAddress(GiantVa), new PhysicalAddress(GiantIpa), 1, RandomS1Leaf(false));
            // Hierarchical permissions on the table above the 16 pages (APTable, UXNTable, PXNTable): they reach a walk
            // that resumes from a walk-cache entry only through that entry.
            if (_rng.Next(2) == 0)
            {
                var tableSlot = _s1.SlotFor(new VirtualAddress(Base), 2, allocate: false);
                ulong bits = (ulong)_rng.Next(16) << 59;
                M.Memory.WriteUInt64(tableSlot, M.Memory.ReadUInt64(tableSlot) | bits);
            }
            if (c.Stage2)
            {
                _s2 = new TableBuilder(new TableAllocator(M.Memory, new PhysicalAddress(S2Tables), 0x10_0000), Geometries.Stage2(Granule.Size4K, 48, 0));
                // The stage-1 tables at IPA = PA, readable and writable with AF=1 (so table reads need no update).
                _s2.Map(new IntermediatePhysicalAddress(S1Tables), new PhysicalAddress(S1Tables), 2, Descriptor.Stage2Leaf(0, page: false));
                for (int i = 0; i < 64; i++) _s2.Map(new IntermediatePhysicalAddress(DataIpa + (ulong)i * 0x1000), new PhysicalAddress(DataPa + (ulong)i * 0x1000), 3, RandomS2Leaf(true));
                // The 2 MiB block's IPA range: 4 KiB stage-2 pages (combined entries are cut from the stage-1 block).
                for (int i = 0; i < 512; i++) _s2.Map(new IntermediatePhysicalAddress(BlockIpa + (ulong)i * 0x1000), new PhysicalAddress(DataPa + 0x20_0000 + (ulong)i * 0x1000), 3, RandomS2Leaf(true) | Descriptor.Af);
                _s2.Map(new IntermediatePhysicalAddress(GiantIpa), new PhysicalAddress(0x1_C000_0000UL), 1, RandomS2Leaf(false) | Descriptor.Af);
            }
            for (int i = 0; i < 64; i++) M.Memory.WriteUInt64(new PhysicalAddress(Out(DataIpa) + (ulong)i * 0x1000), 0xD000_0000UL + (ulong)i);
            foreach (var pe in M.ProcessingElements)
            {
                pe.Msr(Sysreg.MairEl1, MachineSetups.DefaultMair);
                pe.Msr(Sysreg.TcrEl1, new Tcr(0).WithT0sz(16).WithTg0(Granule.Size4K).WithIps(48).WithWalkAttributesInnerWb()
                    .WithEpd(false, true).WithAs(true).WithHaHd(c.Ha, c.Hd));
                pe.Msr(Sysreg.Ttbr0El1, Ttbr.Create(_s1.Root, Asid));
                pe.Msr(Sysreg.SctlrEl1, new Sctlr(MachineSetups.SctlrMmuOn));
                if (c.Stage2)
                {
                    pe.Msr(Sysreg.VtcrEl2, new Vtcr(0).WithT0sz(16).WithSl0(Vtcr.Sl0ForStartLevel(Granule.Size4K, 0)).WithTg0(Granule.Size4K)
                        .WithPs(48).WithWalkAttributesInnerWb().WithHaHd(c.S2Ha, c.S2Hd));
                    pe.Msr(Sysreg.VttbrEl2, Vttbr.Create(_s2!.Root, vmid: 3));
                    pe.Msr(Sysreg.HcrEl2, new Hcr(Hcr.Rw).WithVm(true));
                }
                pe.ChangeExceptionLevel(1);
            }
            if (c.Observe) M.Attach(this);
        }

        // Where an IPA of the data region ends up (identity without stage 2).
        private ulong Out(ulong ipa) => _c.Stage2 ? ipa - DataIpa + DataPa : ipa;

        private ulong RandomS1Leaf(bool page)
        {
            ulong d = Descriptor.Stage1Leaf(0, page, attrIndx: _rng.Next(4) == 0 ? 2 : 1);
            if (_rng.Next(10) == 0) return 0;                          // invalid
            if (_rng.Next(3) == 0) d &= ~Descriptor.Af;
            d |= (ulong)_rng.Next(4) << 6;                             // AP[2:1]
            if (_rng.Next(3) == 0) d |= Descriptor.Dbm;
            if (_rng.Next(3) == 0) d |= Descriptor.NotGlobal;
            if (_rng.Next(5) == 0) d |= Descriptor.Uxn;
            if (_rng.Next(5) == 0) d |= Descriptor.Pxn;
            return d;
        }

        private ulong RandomS2Leaf(bool page)
        {
            if (_rng.Next(12) == 0) return 0;
            ulong d = Descriptor.Stage2Leaf(0, page, read: _rng.Next(8) != 0, write: _rng.Next(3) != 0);
            if (_rng.Next(3) == 0) d &= ~Descriptor.Af;
            if (_rng.Next(3) == 0) d |= Descriptor.Dbm;
            if (_rng.Next(6) == 0) d |= Descriptor.Uxn;
            return d;
        }

        private ulong RandomVa() => _rng.Next(4) switch
        {
            0 or 1 => Base + (ulong)_rng.Next(17) * 0x1000 + (ulong)_rng.Next(512) * 8,   // page 16 is never mapped
            2 => BlockVa + (ulong)_rng.Next(16) * 0x1000 + (ulong)_rng.Next(512) * 8,
            _ => GiantVa + (ulong)_rng.Next(4) * 0x1000_0000 + (ulong)_rng.Next(512) * 8,
        };

        public void Step()
        {
            var pe = M[_rng.Next(_c.Pes)];
            switch (_rng.Next(20))
            {
                case 0: EditStage1Page(pe); break;
                case 1: EditBlock(pe, BlockVa, 2); break;
                case 2: EditBlock(pe, GiantVa, 1); break;
                case 3 when _c.Stage2: EditStage2Page(pe); break;
                case 4: pe.ChangeExceptionLevel(pe.ExceptionLevel == 1 ? 0 : 1); break;
                case 5: pe.Pan = !pe.Pan; break;
                default: Access(pe); break;
            }
        }

        // Break-before-make of a level-3 entry, with the maintenance Linux's set_pte/flush_tlb_page would issue.
        private void EditStage1Page(ProcessingElement pe)
        {
            ulong va = Base + (ulong)_rng.Next(16) * 0x1000;
            var slot = _s1.SlotFor(new VirtualAddress(va), 3, allocate: false);
            ulong leaf = RandomS1Leaf(true);
            if (leaf != 0) leaf |= DataIpa + (ulong)_rng.Next(64) * 0x1000;
            AtEl1(pe, () =>
            {
                pe.WriteDescriptor(slot, 0);
                pe.Dsb(DsbOption.Ishst);
                pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(new VirtualAddress(va), Asid));
                pe.Dsb(DsbOption.Ish);
                pe.WriteDescriptor(slot, leaf);
                pe.Dsb(DsbOption.Ish);
            });
            _cov.Edits++;
        }

        // A block changes with a break and one TLBI naming an address of the block with its level as the TTL hint: every
        // entry cut from the block goes (R_TVTYQ), including combined entries no larger than stage 2's pages and the
        // Cortex-A53's 512 MiB pieces of the 1 GiB block.
        private void EditBlock(ProcessingElement pe, ulong va, int level)
        {
            var slot = _s1.SlotFor(new VirtualAddress(va), level, allocate: false);
            ulong leaf = RandomS1Leaf(false);
            if (leaf != 0) leaf |= level == 2 ? BlockIpa : GiantIpa;
            AtEl1(pe, () =>
            {
                pe.WriteDescriptor(slot, 0);
                pe.Dsb(DsbOption.Ishst);
                ulong named = va + ((ulong)_rng.Next(16) << (level == 2 ? 17 : 26));
                pe.Tlbi(TlbiOp.Vae1Is, TlbiOperand.Va(new VirtualAddress(named), Asid, ttlLevel: level));
                pe.Dsb(DsbOption.Ish);
                pe.WriteDescriptor(slot, leaf);
                pe.Dsb(DsbOption.Ish);
            });
            _cov.Edits++;
        }

        // Stage-2 break-before-make as KVM does it: IPAS2E1IS, DSB, VMALLE1IS (combined entries), DSB (Arm ARM D8.17.6.1).
        private void EditStage2Page(ProcessingElement pe)
        {
            ulong ipa = DataIpa + (ulong)_rng.Next(64) * 0x1000;
            var slot = _s2!.SlotFor(new IntermediatePhysicalAddress(ipa), 3, allocate: false);
            ulong leaf = RandomS2Leaf(true);
            if (leaf != 0) leaf |= DataPa + (ulong)_rng.Next(64) * 0x1000;
            int el = pe.ExceptionLevel;
            pe.ChangeExceptionLevel(2);
            pe.WriteDescriptor(slot, 0);
            pe.Dsb(DsbOption.Ishst);
            pe.Tlbi(TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(new IntermediatePhysicalAddress(ipa)));
            pe.Dsb(DsbOption.Ish);
            pe.Tlbi(TlbiOp.Vmalle1Is);
            pe.Dsb(DsbOption.Ish);
            pe.WriteDescriptor(slot, leaf);
            pe.Dsb(DsbOption.Ish);
            pe.ChangeExceptionLevel(el);
            _cov.Edits++;
        }

        private static void AtEl1(ProcessingElement pe, Action a)
        {
            int el = pe.ExceptionLevel;
            if (el != 1) pe.ChangeExceptionLevel(1);
            a();
            if (el != 1) pe.ChangeExceptionLevel(el);
        }

        private void Access(ProcessingElement pe)
        {
            ulong va = RandomVa();
            var kind = (AccessKind)_rng.Next(3);
            bool el0 = pe.ExceptionLevel == 0;
            var request = new AccessRequest(kind, el0, pe.Pan && !el0 && kind != AccessKind.Execute);
            var t = pe.Translator;
            WalkResult expected = default;
            _reference.Translate(t.El10Regime, t.Stage2, new VirtualAddress(va), request, true, ref expected);
            ulong s1Before = expected.Descriptor, s2Before = expected.Stage2Descriptor;
            long hits = pe.Statistics.L1DataHits + pe.Statistics.L1InstructionHits;
            ulong value = 0xA5A5_0000UL + (ulong)_cov.Accesses;
            Used = null;
            var got = kind switch
            {
                AccessKind.Read => pe.Load(new VirtualAddress(va), 8),
                AccessKind.Write => pe.Store(new VirtualAddress(va), 8, value),
                _ => pe.Fetch(new VirtualAddress(va), 8),
            };
            string where = $"PE{pe.PeIndex} EL{pe.ExceptionLevel} PAN={pe.Pan} {kind} 0x{va:x}";
            _cov.Accesses++;
            got.Fault.Should().Be(expected.Fault, where);
            if (expected.Succeeded)
            {
                _cov.Successes++;
                got.PhysicalAddress.Should().Be(new PhysicalAddress(expected.OutputAddress), where);
                if (kind == AccessKind.Write) M.Memory.ReadUInt64(new PhysicalAddress(expected.OutputAddress)).Should().Be(value, where);
                else got.Value.Should().Be(M.Memory.ReadUInt64(new PhysicalAddress(expected.OutputAddress)), where);
                // The hardware updates a walk asks for are done, exactly (FEAT_HAFDBS; Arm ARM D8.5.4, D8.5.5).
                ulong s1After = s1Before;
                if (expected.Stage1UpdatePending)
                {
                    s1After |= Descriptor.Af;
                    if (kind == AccessKind.Write && t.El10Regime.Hd && (s1Before & Descriptor.Dbm) != 0) s1After &= ~Descriptor.Ap2;
                    _cov.Stage1Updates++;
                }
                M.Memory.ReadUInt64(new PhysicalAddress(expected.DescriptorAddress)).Should().Be(s1After, $"{where}: stage-1 descriptor after the access");
                if (expected.TwoStage)
                {
                    ulong s2After = s2Before;
                    if (expected.Stage2UpdatePending)
                    {
                        s2After |= Descriptor.Af;
                        if (kind == AccessKind.Write && t.Stage2.Hd && (s2Before & Descriptor.Dbm) != 0) s2After |= Descriptor.S2ApWrite;
                        _cov.Stage2Updates++;
                    }
                    M.Memory.ReadUInt64(new PhysicalAddress(expected.Stage2DescriptorAddress)).Should().Be(s2After, $"{where}: stage-2 descriptor after the access");
                }
                if (Used is { } used)
                {
                    // The translation used (from a TLB entry or a walk) is the one a walk of memory gives.
                    _cov.Observed++;
                    used.OutputAddress.Should().Be(expected.OutputAddress, where);
                    used.Attributes.Should().Be(expected.Attributes, where);
                    used.Shareability.Should().Be(expected.Shareability, where);
                    used.Permissions.Should().Be(expected.Permissions, where);
                    used.NotGlobal.Should().Be(expected.NotGlobal, where);
                    used.Level.Should().Be(expected.Level, where);
                    if (expected.TwoStage) used.Stage2Level.Should().Be(expected.Stage2Level, where);
                }
            }
            else
            {
                _cov.Faults++;
                M.Memory.ReadUInt64(new PhysicalAddress(expected.DescriptorAddress)).Should().Be(s1Before, $"{where}: a faulting access updates nothing");
            }
            if (pe.Statistics.L1DataHits + pe.Statistics.L1InstructionHits > hits && Used is null) _cov.FastHits++;
            if (!el0) CheckAt(pe, va, where);
        }

        // AT S1E1R/S1E1W through the PE's TLBs and walk caches against the walk (AT never updates descriptors).
        private void CheckAt(ProcessingElement pe, ulong va, string where)
        {
            var op = _rng.Next(2) == 0 ? AtOperation.S1E1R : AtOperation.S1E1W;
            var t = pe.Translator;
            var access = op.Access();
            WalkResult expected = default;
            _reference.Translate(t.El10Regime, t.Stage2, new VirtualAddress(va), access with { Pan = access.Pan && pe.Pan }, false, ref expected);
            pe.At(op, new VirtualAddress(va)).Par.Should().Be(AddressTranslator.ToPar(expected), $"{where}: {op}");
            _cov.AtChecks++;
        }

        public void OnTranslationUsed(int pe, VirtualAddress va, in WalkResult result, bool fromTlb) => Used = result;
        public void OnSystemRegisterWrite(int pe, SystemRegister register, ulong value) { }
        public void OnExceptionLevelChange(int pe, int exceptionLevel) { }
        public void OnTlbi(int pe, in TlbiScope scope, ReadOnlySpan<int> targets) { }
        public void OnDsb(int pe, DsbOption option) { }
        public void OnIsb(int pe) { }
        public void OnTlbConflict(int pe, VirtualAddress va, in TlbEntryTag first, in TlbEntryTag second)
            => throw new InvalidOperationException($"TLB conflict on PE{pe} at 0x{va:x}: {first} / {second}");
    }

    private static bool Run(Case c, Coverage cov)
    {
        var w = new World(c, cov);
        for (int i = 0; i < c.Ops; i++) w.Step();
        return true;
    }
}
