using System.Text;

namespace Arm64Mmu.Checking.Traces;

/// <summary>An atom, a string or a list read from an s-expression trace, with the line it starts on.</summary>
internal sealed class SExpression
{
    public string? Atom;
    public bool IsString;
    public List<SExpression>? Items;
    public int Line;
    public bool IsList => Items is not null;

    /// <summary>The expression as written, cut after about 160 characters (error messages and notes quote it).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Append(sb, 160);
        return sb.ToString();
    }

    private void Append(StringBuilder sb, int max)
    {
        if (sb.Length >= max)
        {
            sb.Append('…');
            return;
        }
        if (!IsList)
        {
            string text = IsString ? $"\"{Atom}\"" : Atom!;
            if (sb.Length + text.Length > max) text = string.Concat(text.AsSpan(0, Math.Max(0, max - sb.Length)), "…");
            sb.Append(text);
            return;
        }
        sb.Append('(');
        for (int i = 0; i < Items!.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            if (sb.Length >= max)
            {
                sb.Append('…');
                break;
            }
            Items[i].Append(sb, max);
        }
        sb.Append(')');
    }
}

/// <summary>
/// Reads s-expressions from a text stream without recursion: nesting, record size and token length are bounded
/// (<see cref="TraceLimits.MaxNesting"/>, <see cref="TraceLimits.MaxRecordItems"/>, <see cref="TraceLimits.MaxTokenLength"/>), so a
/// deeply nested or endless record is refused with a line number instead of overflowing the stack or the heap.
/// </summary>
internal sealed class SExpressionReader
{
    private readonly TextReader _reader;
    private readonly string _name;
    private readonly StringBuilder _token = new();
    private readonly char[] _buffer = new char[8192];
    private int _pos, _len;

    public SExpressionReader(TextReader reader, string name, int firstLine)
    {
        _reader = reader;
        _name = name;
        Line = firstLine;
    }

    /// <summary>The 1-based line the next character is on.</summary>
    public int Line { get; private set; }

    /// <summary>Skips white space; returns the next character without consuming it, or −1 at the end.</summary>
    public int SkipSpace()
    {
        while (true)
        {
            int c = Peek();
            if (c < 0 || !char.IsWhiteSpace((char)c)) return c;
            Consume();
        }
    }

    /// <summary>The rest of the current line (without the newline), at most <see cref="TraceLimits.MaxTokenLength"/> characters kept.</summary>
    public string ReadRestOfLine()
    {
        _token.Clear();
        while (true)
        {
            int c = Peek();
            if (c is < 0 or '\n') return _token.ToString();
            Consume();
            if (_token.Length < TraceLimits.MaxTokenLength) _token.Append((char)c);
        }
    }

    /// <summary>Up to 20 characters from here, for an error message (consumes them: the caller throws).</summary>
    public string Snippet()
    {
        _token.Clear();
        while (_token.Length < 20)
        {
            int c = Peek();
            if (c is < 0 or '\n') break;
            _pos++;
            _token.Append((char)c);
        }
        return _token.ToString();
    }

    /// <summary>Reads one list; the next character must be '('.</summary>
    /// <exception cref="TraceFormatException">The list is not closed, or breaks a bound.</exception>
    public SExpression ReadList()
    {
        int startLine = Line;
        var stack = new Stack<SExpression>();
        int items = 0;
        Consume(); // '('
        var current = new SExpression { Items = new List<SExpression>(), Line = startLine };
        while (true)
        {
            int c = SkipSpace();
            if (c < 0) throw new TraceFormatException(_name, startLine, "expected ')' closing the record started here, got the end of the file");
            if (++items > TraceLimits.MaxRecordItems)
                throw new TraceFormatException(_name, startLine, $"the record started here has more than {TraceLimits.MaxRecordItems} fields and atoms (a Casemate record has a handful)");
            switch (c)
            {
                case ')':
                    Consume();
                    if (stack.Count == 0) return current;
                    var parent = stack.Pop();
                    parent.Items!.Add(current);
                    current = parent;
                    break;
                case '(':
                    if (stack.Count + 1 >= TraceLimits.MaxNesting)
                        throw new TraceFormatException(_name, Line, $"parentheses nested deeper than {TraceLimits.MaxNesting} levels in the record started on line {startLine} (a Casemate record nests two deep)");
                    stack.Push(current);
                    current = new SExpression { Items = new List<SExpression>(), Line = Line };
                    Consume();
                    break;
                case '"':
                {
                    int l0 = Line;
                    Consume();
                    _token.Clear();
                    while (true)
                    {
                        int d = Peek();
                        if (d < 0) throw new TraceFormatException(_name, l0, "expected '\"' closing the string started here");
                        Consume();
                        if (d == '"') break;
                        if (_token.Length >= TraceLimits.MaxTokenLength)
                            throw new TraceFormatException(_name, l0, $"the string started here is longer than {TraceLimits.MaxTokenLength} characters");
                        _token.Append((char)d);
                    }
                    current.Items!.Add(new SExpression { Atom = _token.ToString(), IsString = true, Line = l0 });
                    break;
                }
                default:
                {
                    int l0 = Line;
                    _token.Clear();
                    while (true)
                    {
                        int d = Peek();
                        if (d < 0 || char.IsWhiteSpace((char)d) || d is '(' or ')' or '"') break;
                        if (_token.Length >= TraceLimits.MaxTokenLength)
                            throw new TraceFormatException(_name, l0, $"an atom longer than {TraceLimits.MaxTokenLength} characters");
                        _token.Append((char)d);
                        Consume();
                    }
                    current.Items!.Add(new SExpression { Atom = _token.ToString(), Line = l0 });
                    break;
                }
            }
        }
    }

    // The next character without consuming it, or −1 at the end (the reader is read in blocks: a trace is mostly
    // single characters, and a call per character into the TextReader would dominate).
    private int Peek()
    {
        if (_pos < _len) return _buffer[_pos];
        _len = _reader.Read(_buffer, 0, _buffer.Length);
        _pos = 0;
        return _len == 0 ? -1 : _buffer[0];
    }

    private void Consume()
    {
        if (Peek() == '\n') Line++;
        _pos++;
    }
}
