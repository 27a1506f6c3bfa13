namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// Notes a reader makes about a trace, at most <see cref="Capacity"/> of them: a trace that repeats an ignored event a
/// million times gets a hundred notes and a count of the rest, not a million strings.
/// </summary>
internal sealed class TraceNotes
{
    public const int Capacity = 100;
    private readonly List<string> _notes = new();
    private int _dropped;

    public void Add(string note)
    {
        if (_notes.Count < Capacity) _notes.Add(note);
        else _dropped++;
    }

    public List<string> ToList()
    {
        var list = new List<string>(_notes);
        if (_dropped > 0) list.Add($"{_dropped} more note(s) like these were not kept");
        return list;
    }
}
