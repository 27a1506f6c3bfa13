namespace Arm64Mmu.Timing;

/// <summary>
/// The interconnect carrying broadcast TLB maintenance (DVM messages) between PEs. Broadcasts whose intervals on the
/// issuers' clocks overlap slow each other down: each one issued while k broadcasts from other PEs are in flight takes
/// (1 + f·k) times as long, f being the profile's contention factor (latency grows about linearly with concurrent
/// broadcasters: Arcangeli, "arm64: tlb: skip tlbi broadcast", 2020; docs/cost-model.md).
/// Deterministic: it depends only on the order of the calls and the clocks passed in.
/// </summary>
public sealed class DvmInterconnect
{
    private const int Window = 64;
    private readonly ulong[] _start = new ulong[Window];
    private readonly ulong[] _end = new ulong[Window];
    private readonly int[] _issuer = new int[Window];
    private int _next;
    private int _count;

    /// <summary>Broadcasts carried.</summary>
    public long Broadcasts { get; private set; }
    /// <summary>Broadcasts that overlapped at least one broadcast from another PE.</summary>
    public long ContendedBroadcasts { get; private set; }
    /// <summary>The most broadcasts from other PEs any one broadcast overlapped.</summary>
    public int MaxOverlap { get; private set; }

    /// <summary>
    /// Schedules a broadcast by <paramref name="issuer"/> starting at <paramref name="start"/> that would take
    /// <paramref name="duration"/> cycles alone; returns the factor its latency is stretched by.
    /// </summary>
    internal double Schedule(int issuer, ulong start, ulong duration, double contentionFactor)
    {
        int overlapping = 0;
        ulong end = start + duration;
        for (int i = 0; i < _count; i++)
            if (_issuer[i] != issuer && _start[i] < end && _end[i] > start) overlapping++;
        double scale = 1 + contentionFactor * overlapping;
        _start[_next] = start;
        _end[_next] = start + (ulong)Math.Round(duration * scale);
        _issuer[_next] = issuer;
        _next = (_next + 1) % Window;
        if (_count < Window) _count++;
        Broadcasts++;
        if (overlapping > 0) ContendedBroadcasts++;
        if (overlapping > MaxOverlap) MaxOverlap = overlapping;
        return scale;
    }
}
