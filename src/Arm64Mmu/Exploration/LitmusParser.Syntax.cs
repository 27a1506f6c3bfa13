using System.Globalization;

namespace Arm64Mmu.Exploration;

/// <summary>The condition's proposition and the location, register and address forms shared with the initial state.</summary>
public static partial class LitmusParser
{
    /// <summary>Recursive-descent parser of <c>P /\ Q</c>, <c>P \/ Q</c>, <c>~P</c>, <c>not P</c>, atoms.</summary>
    private sealed class PropositionParser(string text, Builder builder)
    {
        private int _pos;

        public LitmusProposition ParseAll()
        {
            var p = ParseOr();
            Skip();
            if (_pos < text.Length) throw new LitmusFormatException($"unexpected '{Rest()}' after the condition");
            return p;
        }

        private string Rest() { string r = text[_pos..].Trim(); return r.Length > 30 ? r[..30] + "…" : r; }

        private void Skip() { while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++; }

        private bool Eat(string tok)
        {
            Skip();
            if (string.CompareOrdinal(text, _pos, tok, 0, tok.Length) != 0) return false;
            _pos += tok.Length;
            return true;
        }

        private bool EatWord(string word)
        {
            Skip();
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            int end = _pos + word.Length;
            if (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_')) return false;
            _pos = end;
            return true;
        }

        private LitmusProposition ParseOr()
        {
            var left = ParseAnd();
            while (Eat("\\/")) left = new OrProposition(left, ParseAnd());
            return left;
        }

        private LitmusProposition ParseAnd()
        {
            var left = ParseUnary();
            while (Eat("/\\")) left = new AndProposition(left, ParseUnary());
            return left;
        }

        private const int MaxDepth = 100;
        private int _depth;

        private const int MaxAtoms = 1000;
        private int _atoms;

        private LitmusProposition ParseUnary()
        {
            if (++_atoms > MaxAtoms) throw new LitmusFormatException($"condition: more than {MaxAtoms} terms");
            if (++_depth > MaxDepth) throw new LitmusFormatException($"condition: nested more than {MaxDepth} levels deep");
            try { return ParseUnaryInner(); }
            finally { _depth--; }
        }

        private LitmusProposition ParseUnaryInner()
        {
            if (Eat("~") || EatWord("not")) return new NotProposition(ParseUnary());
            if (Eat("("))
            {
                var p = ParseOr();
                if (!Eat(")")) throw new LitmusFormatException($"condition: ')' expected at '{Rest()}'");
                return p;
            }
            if (EatWord("true")) return new ConstantProposition(true);
            if (EatWord("false")) return new ConstantProposition(false);
            Skip();
            if (string.Compare(text, _pos, "fault(", 0, 6, StringComparison.OrdinalIgnoreCase) == 0)
            {
                int close = text.IndexOf(')', _pos);
                if (close < 0) throw new LitmusFormatException("condition: a fault atom is not closed");
                string atom = text[_pos..(close + 1)];
                _pos = close + 1;
                return new FaultProposition(builder.ParseFaultAtom(atom));
            }
            int start = _pos;
            int depth = 0;
            while (_pos < text.Length)
            {
                char c = text[_pos];
                if (c == '(' || c == '[') depth++;
                else if (c == ')' || c == ']') { if (depth == 0) break; depth--; }
                else if (depth == 0 && (c == '=' || c == '<' || char.IsWhiteSpace(c))) break;
                _pos++;
            }
            string loc = text[start.._pos];
            bool negated;
            if (Eat("<>")) negated = true;
            else if (Eat("=")) negated = false;
            else if (loc.Length == 0)
                throw new LitmusFormatException(_pos >= text.Length
                    ? "condition: it ends where a term was expected (a location = value, fault(...), true or false)"
                    : $"condition: expected a term (a location = value, fault(...), true or false) at '{Rest()}'");
            else throw new LitmusFormatException($"condition: expected '=' or '<>' after '{Excerpt(loc)}'{(_pos >= text.Length ? " (the condition ends there)" : $" at '{Rest()}'")}");
            Skip();
            int vstart = _pos;
            depth = 0;
            while (_pos < text.Length)
            {
                char c = text[_pos];
                if (c == '(') depth++;
                else if (c == ')') { if (depth == 0) break; depth--; if (depth == 0) { _pos++; break; } }
                else if (depth == 0 && (char.IsWhiteSpace(c) || c == '/' || c == '\\')) break;
                _pos++;
            }
            string value = text[vstart.._pos];
            return new EqualsProposition(builder.ParseLocation(loc), builder.ParseValue(value, $"value of {loc.Trim()}"), negated);
        }
    }

    internal static bool IsIdentifier(string s)
        => s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c == '_');

    /// <summary><c>0:X4</c>, <c>P0:X4</c>, <c>0:W4</c>, <c>1:x1</c>.</summary>
    internal static bool TryRegister(string s, out int thread, out int reg)
    {
        thread = reg = 0;
        string t = s.Trim();
        int colon = t.IndexOf(':');
        if (colon <= 0) return false;
        string p = t[..colon];
        if (p.StartsWith('P')) p = p[1..];
        if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out thread) || thread >= MaxThreads) return false;
        if (!LitmusRegister.TryParse(t[(colon + 1)..], out var r) || r.IsZero) return false;
        reg = r.Number;
        return true;
    }

    /// <summary><c>PTE(x)</c>, <c>TTD(x)</c>, <c>pte_x</c>.</summary>
    internal static bool TryDescriptorLocation(string s, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? symbol)
    {
        symbol = null;
        string t = s.Trim();
        if ((t.StartsWith("PTE(", StringComparison.Ordinal) || t.StartsWith("TTD(", StringComparison.Ordinal)) && t.EndsWith(')'))
            symbol = t[4..^1].Trim();
        else if (t.StartsWith("pte_", StringComparison.Ordinal) && t.Length > 4)
            symbol = t[4..];
        return symbol is not null && IsIdentifier(symbol);
    }

    /// <summary><c>PA(x)</c>, <c>phy_x</c>.</summary>
    internal static bool TryPhysical(string s, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? symbol)
    {
        symbol = null;
        string t = s.Trim();
        if (t.StartsWith("PA(", StringComparison.Ordinal) && t.EndsWith(')')) symbol = t[3..^1].Trim();
        else if (t.StartsWith("phy_", StringComparison.Ordinal) && t.Length > 4) symbol = t[4..];
        return symbol is not null && IsIdentifier(symbol);
    }

    /// <summary>Splits at separators outside parentheses and braces.</summary>
    internal static List<string> SplitTopLevel(string s, params char[] separators)
    {
        var list = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '(' or '{' or '[') depth++;
            else if (c is ')' or '}' or ']') depth--;
            else if (depth == 0 && Array.IndexOf(separators, c) >= 0) { list.Add(s[start..i]); start = i + 1; }
        }
        list.Add(s[start..]);
        return list;
    }

    private static int IndexOfTopLevel(string s, char c)
    {
        int depth = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is '(' or '{' or '[') depth++;
            else if (s[i] is ')' or '}' or ']') depth--;
            else if (depth == 0 && s[i] == c) return i;
        }
        return -1;
    }
}
