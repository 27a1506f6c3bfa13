using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Arm64Mmu.Architecture;
using Arm64Mmu.Checking.Traces;
using Arm64Mmu.Cli.Conformance;

namespace Arm64Mmu.Cli;

/// <summary>A user error the CLI reports in one line, exiting with status 2.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>The exit statuses every command uses (README "The command-line tool").</summary>
public static class ExitStatus
{
    /// <summary>Success: clean, passed, done.</summary>
    public const int Ok = 0;
    /// <summary>The command ran and found something: violations (<c>check</c>), failed queries (<c>conformance --check</c>), an unexpected scenario outcome (<c>demo</c>).</summary>
    public const int Findings = 1;
    /// <summary>Usage or input error: an unknown option, a bad number, a missing argument, an unreadable or malformed file, a limit exceeded.</summary>
    public const int UsageError = 2;
    /// <summary>A bug in arm64mmu: an exception it did not expect (the one-line message asks for a report).</summary>
    public const int InternalError = 3;
}

/// <summary>
/// Runs the root command so that every way of using the tool wrongly ends the same way: one line
/// <c>arm64mmu: error: …</c> on standard error — what is wrong, where, what is allowed — and exit status 2, never a
/// stack trace. Parse errors (unknown options, bad numbers, missing arguments) are reported here instead of by
/// System.CommandLine's default handler, which exits 1, the status <c>check</c> uses for violations.
/// </summary>
public static class CliRunner
{
    /// <summary>Longest message printed (input echoed into a message is cut, not printed whole).</summary>
    public const int MaxMessageLength = 2000;

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit status (<see cref="ExitStatus"/>).</summary>
    public static int Run(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        // No response files: System.CommandLine would expand "@path" by reading the whole file (@/dev/zero: until out of
        // memory); an argument starting with '@' is an ordinary file name here.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0 && parsed.Action is ParseErrorAction)
        {
            string command = CommandPath(parsed.CommandResult);
            string errors = string.Join("; ", parsed.Errors.Select(Describe).Distinct());
            return UsageError($"{command}: {errors} (see '{command} --help')");
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            return UsageError(e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException && Environment.GetEnvironmentVariable("ARM64MMU_DEBUG") is null)
        {
            Console.Error.WriteLine($"arm64mmu: internal error: {OneLine($"{e.GetType().Name}: {e.Message}")} (a bug in arm64mmu: please report it with the command line; ARM64MMU_DEBUG=1 shows the stack trace)");
            return ExitStatus.InternalError;
        }
    }

    /// <summary>Prints <c>arm64mmu: error: message</c> (one line, control characters escaped) and returns <see cref="ExitStatus.UsageError"/>.</summary>
    public static int UsageError(string message)
    {
        Console.Error.WriteLine(ErrorLine(message));
        return ExitStatus.UsageError;
    }

    /// <summary>The error line for a message.</summary>
    public static string ErrorLine(string message) => "arm64mmu: error: " + OneLine(message);

    /// <summary>True for the exceptions that mean "the input or the command line is wrong" (exit 2), as opposed to a bug.</summary>
    public static bool IsUserError(Exception e) => e is CliException or VectorFormatException or ConfigurationException or TraceFormatException;

    /// <summary>
    /// <paramref name="text"/> as one printable line: line breaks, tabs and other control and format characters (bidi
    /// overrides, escape sequences) from the input are written as <c>\n</c>, <c>\xNN</c> or <c>\uNNNN</c>, and text past
    /// <paramref name="max"/> characters is cut with a count of what was left out.
    /// </summary>
    public static string OneLine(string text, int max = MaxMessageLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(Math.Min(text.Length, max) + 16);
        int i = 0;
        for (; i < text.Length && sb.Length < max; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            var category = char.GetUnicodeCategory(c);
            if (c < 0x100 && char.IsControl(c)) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                     or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse)
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        if (i < text.Length) sb.Append($"… ({text.Length - i} more characters)");
        return sb.ToString();
    }

    /// <summary>
    /// Makes a list of files refuse a word that starts with '-' and names no file or directory: System.CommandLine gives
    /// an unknown option to an argument that takes any number of values (<c>litmus --bogus</c> became the file
    /// "--bogus"), so it is reported here as the unknown option it is. A file whose name starts with '-' still works
    /// when it exists (or as <c>./-name</c>).
    /// </summary>
    public static Argument<string[]> RefusingUnknownOptions(this Argument<string[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        files.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-' && !File.Exists(token.Value) && !Directory.Exists(token.Value))
                    r.AddError($"Unrecognized command or argument '{token.Value}'");
        });
        return files;
    }

    /// <summary>
    /// A parse error in words: System.CommandLine names the CLR type a value did not convert to ("as expected type
    /// 'System.Nullable`1[System.Int64]'"); that part becomes what the value should look like ("expected an integer").
    /// </summary>
    internal static string Describe(ParseError error)
    {
        string message = error.Message.TrimEnd('.');
        Type? type = error.SymbolResult switch
        {
            OptionResult o => o.Option.ValueType,
            ArgumentResult { Parent: OptionResult o } => o.Option.ValueType,
            ArgumentResult a => a.Argument.ValueType,
            _ => null,
        };
        if (type is null) return message;
        string quoted = $"'{type}'";
        string english = " as expected type " + quoted;
        if (message.Contains(english, StringComparison.Ordinal)) return message.Replace(english, ": expected " + Expected(type), StringComparison.Ordinal);
        // Another language's wording: at least the type is said in words.
        return message.Replace(quoted, $"'{Expected(type)}'", StringComparison.Ordinal);
    }

    /// <summary>What a value of <paramref name="type"/> looks like, in words.</summary>
    internal static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsArray) return Expected(type.GetElementType()!);
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type));
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Int32 => $"an integer (at most {int.MaxValue})",
            TypeCode.Int64 => $"an integer (at most {long.MaxValue})",
            TypeCode.Int16 or TypeCode.SByte => "an integer",
            TypeCode.UInt32 => $"a non-negative integer (at most {uint.MaxValue})",
            TypeCode.UInt64 => $"a non-negative integer (at most {ulong.MaxValue})",
            TypeCode.UInt16 or TypeCode.Byte => "a non-negative integer",
            TypeCode.Double or TypeCode.Single or TypeCode.Decimal => "a number",
            TypeCode.Boolean => "true or false",
            _ => "a " + type.Name.ToLowerInvariant(),
        };
    }

    private static string CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new List<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(r.Command is RootCommand ? "arm64mmu" : r.Command.Name);
        names.Reverse();
        return names.Count == 0 ? "arm64mmu" : string.Join(' ', names);
    }
}
