namespace Arm64Mmu.Simulation.Paging;

/// <summary>
/// Which leaves demand paging creates: one size for every mapping (<see cref="LeafShift"/>), or huge pages — pages of
/// the granule, replaced by one block of 2^<see cref="BlockShift"/> once every page of the aligned block has been
/// touched (reservation-based promotion: the block's frames are reserved at its first touch, as FreeBSD's superpage
/// reservations do; Navarro et al., OSDI 2002).
/// </summary>
/// <param name="LeafShift">log2 of the leaf size (for huge pages: of the granule).</param>
/// <param name="Huge">Huge-page policy.</param>
/// <param name="BlockShift">log2 of the block a huge-page policy promotes to (the level-2 block of the granule).</param>
internal readonly record struct PagePolicy(int LeafShift, bool Huge, int BlockShift)
{
    public override string ToString() => Huge ? "huge" : Configuration.ByteSize.FormatShift(LeafShift);
}
