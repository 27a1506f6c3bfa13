using System.Collections;

namespace Arm64Mmu.Checking;

/// <summary>
/// The events that concern one break or one obligation, bounded: the first <see cref="Head"/> and the last
/// <see cref="Tail"/> are kept and the ones between only counted. A break followed by a million unrelated TLBIs costs
/// 64 references, not a million, and so does every violation printed from it.
/// </summary>
internal sealed class EventHistory : IEnumerable<TraceEvent>
{
    public const int Head = 8, Tail = 56;
    private readonly List<TraceEvent> _head = new(2);
    private TraceEvent[]? _tail;
    private int _tailStart, _tailCount;

    /// <summary>Events seen but no longer kept.</summary>
    public long Dropped { get; private set; }

    /// <summary>The index of the last event kept before the ones dropped (they all lie between the first events and the last), or −1.</summary>
    public long GapAfter => Dropped > 0 ? _head[^1].Index : -1;

    public void Add(TraceEvent e)
    {
        if (_head.Count < Head)
        {
            _head.Add(e);
            return;
        }
        _tail ??= new TraceEvent[Tail];
        if (_tailCount < Tail)
        {
            _tail[(_tailStart + _tailCount++) % Tail] = e;
            return;
        }
        _tail[_tailStart] = e;
        _tailStart = (_tailStart + 1) % Tail;
        Dropped++;
    }

    public IEnumerator<TraceEvent> GetEnumerator()
    {
        foreach (var e in _head) yield return e;
        for (int i = 0; i < _tailCount; i++) yield return _tail![(_tailStart + i) % Tail];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The events printed with a violation, in order, and how many more led to it but were not kept.</summary>
internal sealed class EventTrail(List<TraceEvent> events, long omitted, long gapAfter) : IReadOnlyList<TraceEvent>
{
    /// <summary>Most events a violation keeps: the first <see cref="EventHistory.Head"/> and the last <see cref="EventHistory.Tail"/>.</summary>
    public const int Capacity = EventHistory.Head + EventHistory.Tail;

    public long Omitted { get; } = omitted;
    /// <summary>The index of the event after which the omitted ones lie, or −1.</summary>
    public long GapAfter { get; } = omitted > 0 ? gapAfter : -1;
    public int Count => events.Count;
    public TraceEvent this[int index] => events[index];
    public IEnumerator<TraceEvent> GetEnumerator() => events.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The union of <paramref name="events"/> and <paramref name="at"/> by index, in order, cut to <see cref="Capacity"/>
    /// (its first and last events kept); <paramref name="dropped"/> events are known to be missing already.</summary>
    public static EventTrail Of(IEnumerable<TraceEvent> events, TraceEvent at, long dropped, long gapAfter)
    {
        var list = events.Append(at).DistinctBy(e => e.Index).OrderBy(e => e.Index).ToList();
        if (list.Count > Capacity)
        {
            dropped += list.Count - Capacity;
            list.RemoveRange(EventHistory.Head, list.Count - Capacity);
            gapAfter = list[EventHistory.Head - 1].Index;
        }
        return new EventTrail(list, dropped, gapAfter);
    }
}
