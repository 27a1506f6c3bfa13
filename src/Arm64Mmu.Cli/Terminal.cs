using Spectre.Console;

namespace Arm64Mmu.Cli;

/// <summary>How output is rendered: escape codes or not, and the width tables are fitted to.</summary>
/// <param name="Ansi">Colour and other escape codes may be written.</param>
/// <param name="Width">Columns a table may use.</param>
internal readonly record struct TerminalSettings(bool Ansi, int Width)
{
    /// <summary>Width used when the output is not a terminal and COLUMNS is not set.</summary>
    public const int DefaultWidth = 120;
    /// <summary>Narrowest and widest widths taken from COLUMNS or the terminal.</summary>
    public const int MinWidth = 40, MaxWidth = 1000;

    /// <summary>
    /// The rules: no escape codes when the stream is not a terminal, when NO_COLOR is set to anything (no-color.org) or when
    /// TERM is "dumb"; the width is COLUMNS when it is a number of columns, else the terminal's, else <see cref="DefaultWidth"/>.
    /// </summary>
    public static TerminalSettings Decide(bool redirected, string? noColor, string? term, string? columns, int terminalWidth)
    {
        bool ansi = !redirected && string.IsNullOrEmpty(noColor) && !string.Equals(term, "dumb", StringComparison.Ordinal);
        int width = int.TryParse(columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int c) && c > 0
            ? c
            : !redirected && terminalWidth > 0 ? terminalWidth : DefaultWidth;
        return new TerminalSettings(ansi, Math.Clamp(width, MinWidth, MaxWidth));
    }
}

/// <summary>The consoles the commands write to, configured by <see cref="TerminalSettings.Decide"/> from the environment.</summary>
internal static class Terminal
{
    /// <summary>The settings for standard output.</summary>
    public static TerminalSettings Output => Decide(Console.IsOutputRedirected);

    /// <summary>The settings for standard error.</summary>
    public static TerminalSettings Error => Decide(Console.IsErrorRedirected);

    private static TerminalSettings Decide(bool redirected)
    {
        int width = 0;
        if (!redirected)
        {
            try { width = Console.WindowWidth; }
            catch (IOException) { }
        }
        return TerminalSettings.Decide(redirected, Environment.GetEnvironmentVariable("NO_COLOR"), Environment.GetEnvironmentVariable("TERM"),
            Environment.GetEnvironmentVariable("COLUMNS"), width);
    }

    /// <summary>A Spectre console writing to <see cref="Console.Out"/> with the standard-output settings.</summary>
    public static IAnsiConsole CreateOutput() => Create(Console.Out, Output);

    /// <summary>A Spectre console on <paramref name="writer"/> with the given settings.</summary>
    public static IAnsiConsole Create(TextWriter writer, TerminalSettings settings)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = settings.Ansi ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = settings.Ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = settings.Ansi ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = settings.Width;
        return console;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, showing a progress bar on standard error when it is a terminal that takes escape
    /// codes (never in redirected output, so logs and pipes stay clean). The work reports the units done so far, out of
    /// <paramref name="total"/>, and writes its result lines through the scope: while the bar is drawn on the terminal
    /// they are held back and printed when it is gone, so the two do not overwrite each other.
    /// </summary>
    public static T WithProgress<T>(string description, double total, Func<ProgressScope, T> work)
    {
        var settings = Error;
        if (!settings.Ansi || total <= 0) return work(new ProgressScope(_ => { }, deferLines: false));
        var console = Create(Console.Error, settings);
        T result = default!;
        ProgressScope? scope = null;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                scope = new ProgressScope(done => task.Value = Math.Min(done, total), deferLines: !Console.IsOutputRedirected);
                result = work(scope);
                task.Value = total;
            });
        scope?.Flush();
        return result;
    }
}

/// <summary>What a piece of work running under <see cref="Terminal.WithProgress"/> reports to.</summary>
internal sealed class ProgressScope(Action<double> report, bool deferLines)
{
    private readonly List<string> _held = new();

    /// <summary>Units done so far.</summary>
    public void Report(double done) => report(done);

    /// <summary>A line of standard output (held back while a progress bar is drawn on the same terminal).</summary>
    public void WriteLine(string line)
    {
        if (deferLines) _held.Add(line);
        else Console.Out.WriteLine(line);
    }

    /// <summary>Prints the lines held back.</summary>
    public void Flush()
    {
        foreach (var l in _held) Console.Out.WriteLine(l);
        _held.Clear();
    }
}
