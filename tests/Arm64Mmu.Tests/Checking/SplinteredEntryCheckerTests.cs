using Arm64Mmu.Architecture;
using Arm64Mmu.Machine;
using Arm64Mmu.Tlb;
using static Arm64Mmu.Tests.Checking.CheckerRig;

namespace Arm64Mmu.Tests.Checking;

/// <summary>
/// The checker's "may hold" model follows R_TVTYQ as the TLBs do: the combined entries a PE may hold for a guest's
/// stage-1 block over stage-2 pages are pieces of that block, and a TLBI by VA that selects the block removes all of
/// them, whichever address of the block it names. So the KVM sequence for a stage-2 page under a guest block — break,
/// IPAS2E1IS, DSB, then one stage-1 TLBI at the block's base (with TTL level 2), DSB, make — is clean; a stage-1 TLBI
/// outside the block is not.
/// </summary>
public class SplinteredEntryCheckerTests
{
    private static readonly VirtualAddress BlockVa = new(0x0000_0040_0020_0000UL);
    private static readonly IntermediatePhysicalAddress BlockIpa = new(0x8020_0000UL);
    private static readonly PhysicalAddress BlockPa = new(0x1_0020_0000UL);
    private const ulong S2Attrs = Descriptor.Af | Descriptor.S2ApRead | Descriptor.S2ApWrite | 0xFUL << 2 | 3UL << 8;

    private static ulong S2Page(ulong pa) => Descriptor.EncodeAddress(pa, Descriptor.AddressFormat.Bits48) | S2Attrs | Descriptor.Valid | Descriptor.TableOrPage;

    private static (CheckerRig Rig, ulong Slot) Guest()
    {
        var rig = new CheckerRig(2);
        var s2 = rig.Stage2Tables();
        s2.Map(new IntermediatePhysicalAddress(0), new PhysicalAddress(0), 1, S2Attrs & ~Descriptor.TableOrPage); // identity map of the first GiB: the stage-1 tables live there
        for (ulong off = 0; off < 0x20_0000; off += 0x1000) s2.Map(BlockIpa + off, BlockPa + off, 3, S2Attrs);
        var s1 = rig.Stage1Tables();
        s1.Map(BlockVa, BlockIpa, 2, PageAttrs & ~Descriptor.TableOrPage);
        for (int pe = 0; pe < 2; pe++)
        {
            rig.LoadStage2(pe, s2.Root, 1);
            rig.LoadEl1(pe, s1.Root, 9);
        }
        return (rig, s2.SlotFor(BlockIpa + 0x5000, 3, false).Value);
    }

    private static void Stage2PageChange(CheckerRig rig, ulong slot, TlbiOp stage1Op, ulong operand)
    {
        rig.Str(0, new PhysicalAddress(slot), 0);
        rig.Dsb(0, DsbOption.Ishst);
        rig.Tlbi(0, TlbiOp.Ipas2e1Is, TlbiOperand.Ipa(BlockIpa + 0x5000, 3));
        rig.Dsb(0, DsbOption.Ish);
        rig.Tlbi(0, stage1Op, operand);
        rig.Dsb(0, DsbOption.Ish);
        rig.Str(0, new PhysicalAddress(slot), S2Page(OtherPa.Value));
    }

    [Theory]
    [InlineData(TlbiOp.Vaae1Is, 0UL, 2)]
    [InlineData(TlbiOp.Vaale1Is, 0UL, 2)]
    [InlineData(TlbiOp.Vaae1Is, 0x1F_0000UL, -1)]
    public void Stage1TlbiNamingAnyAddressOfTheBlock_RemovesTheCombinedPieces(TlbiOp op, ulong offset, int ttl)
    {
        var (rig, slot) = Guest();
        Stage2PageChange(rig, slot, op, TlbiOperand.Va(BlockVa + offset, ttlLevel: ttl < 0 ? null : ttl));
        rig.Violations.Should().BeEmpty("a TLBI that selects the guest's block removes every combined entry cut from it (R_TVTYQ)");
    }

    [Fact]
    public void Stage1TlbiOutsideTheBlock_LeavesTheCombinedPieces()
    {
        var (rig, slot) = Guest();
        Stage2PageChange(rig, slot, TlbiOp.Vaae1Is, TlbiOperand.Va(BlockVa + 0x20_0000, ttlLevel: 2));
        var v = rig.Violations.Should().ContainSingle().Subject;
        v.Details.Should().Contain(d => d.Contains($"0x{BlockVa + 0x5000:x}"), "the piece at block + 0x5000 may still be held");
    }
}
