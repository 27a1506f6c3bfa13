namespace Arm64Mmu.Timing;

/// <summary>
/// When one TLBI completes at each PE it reaches, from the issuing PE's clock: locally after the profile's local TLBI
/// cycles; at the i-th other target after the broadcast's base latency, i per-target steps (DVM messages go out one
/// after another) and the target's own receive cycles — all stretched by contention with overlapping broadcasts from
/// other PEs (<see cref="DvmInterconnect"/>). Figures and sources: docs/cost-model.md.
/// </summary>
internal readonly struct BroadcastTiming
{
    // Latency to the i-th other target: _base + (_perTarget × i) / 1024 cycles, contention already applied; the 1024
    // keeps the fraction of a stretched per-target step without floating point at delivery.
    private readonly ulong _issued, _local, _base, _perTarget;

    private BroadcastTiming(ulong issued, ulong local, ulong scaledBase, ulong scaledPerTarget)
    {
        _issued = issued;
        _local = local;
        _base = scaledBase;
        _perTarget = scaledPerTarget;
    }

    /// <summary>
    /// Schedules a TLBI issued by PE <paramref name="issuer"/> at cycle <paramref name="issued"/> that reaches
    /// <paramref name="targets"/> PEs (itself included) on <paramref name="interconnect"/>.
    /// </summary>
    public static BroadcastTiming Schedule(CoreProfile profile, DvmInterconnect interconnect, int issuer, ulong issued, int targets)
    {
        double scale = 1;
        if (targets > 1)
        {
            ulong alone = (ulong)profile.BroadcastBaseCycles + (ulong)profile.BroadcastPerTargetCycles * (ulong)(targets - 2) + (ulong)profile.TlbiReceiveCycles;
            scale = interconnect.Schedule(issuer, issued, alone, profile.ContentionFactor);
        }
        return new BroadcastTiming(issued, (ulong)profile.TlbiLocalCycles,
            (ulong)Math.Round(profile.BroadcastBaseCycles * scale), (ulong)Math.Round(profile.BroadcastPerTargetCycles * scale * 1024));
    }

    /// <summary>The cycle the TLBI completes on the issuing PE itself.</summary>
    public ulong LocalFinish => _issued + _local;

    /// <summary>The cycle the TLBI completes on the <paramref name="position"/>-th other PE it reaches (from 0), which takes <paramref name="receiveCycles"/> to apply it.</summary>
    public ulong RemoteFinish(int position, ulong receiveCycles) => _issued + _base + ((_perTarget * (ulong)position) >> 10) + receiveCycles;
}
