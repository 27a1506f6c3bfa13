using System.Text;

namespace Arm64Mmu.Checking.Traces;

/// <summary>
/// Reads lines of at most a given length: a line without end (<c>/dev/zero</c>, a binary file) is refused after
/// <see cref="TraceLimits.MaxTokenLength"/> characters instead of being gathered whole. Lines end at '\n'; a '\r'
/// before it is dropped.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, int maxLength)
{
    private readonly char[] _buffer = new char[8192];
    private readonly StringBuilder _line = new();
    private int _pos, _len;

    /// <summary>The next line, or null at the end of the input.</summary>
    /// <exception cref="InvalidDataException">The line is longer than the limit.</exception>
    public string? ReadLine()
    {
        _line.Clear();
        bool any = false;
        while (true)
        {
            if (_pos == _len)
            {
                _len = reader.Read(_buffer, 0, _buffer.Length);
                _pos = 0;
                if (_len == 0) return any ? Finish() : null;
            }
            any = true;
            int nl = Array.IndexOf(_buffer, '\n', _pos, _len - _pos);
            int end = nl < 0 ? _len : nl;
            if (_line.Length + (end - _pos) > maxLength) throw new InvalidDataException($"the line is longer than {maxLength} characters");
            _line.Append(_buffer, _pos, end - _pos);
            _pos = end;
            if (nl >= 0)
            {
                _pos++;
                return Finish();
            }
        }
    }

    private string Finish()
    {
        if (_line.Length > 0 && _line[^1] == '\r') _line.Length--;
        return _line.ToString();
    }
}
