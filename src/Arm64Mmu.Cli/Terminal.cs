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
}

/// <summary>
/// A progress bar on standard error while a long command runs, drawn only when standard error is a terminal that takes
/// escape codes (never in redirected output, so logs and pipes stay clean). The command reports the units done and writes
/// its result lines through it: while the bar is drawn they are held back and printed when it is gone, so the two do not
/// overwrite each other. Dispose it (or call <see cref="Stop"/>) when the work is done.
/// </summary>
internal sealed class ProgressDisplay : IDisposable
{
    private readonly Thread? _renderer;
    private readonly List<string> _held = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly bool _holdLines;
    private double _done;

    private ProgressDisplay(string description, double total, TerminalSettings? bar)
    {
        if (bar is not { } settings) return;
        _holdLines = !Console.IsOutputRedirected;
        var console = Terminal.Create(Console.Error, settings);
        // Spectre's progress display runs its callback to the end; it lives on a thread of its own, reading the count the
        // command's thread publishes, so the command's code stays a plain loop.
        _renderer = new Thread(() => console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                while (!_stop.Wait(100)) task.Value = Math.Min(Volatile.Read(ref _done), total);
                task.Value = total;
            })) { IsBackground = true, Name = "progress" };
        _renderer.Start();
    }

    /// <summary>Starts a display of <paramref name="total"/> units (none when standard error is not a terminal or the total is not positive).</summary>
    public static ProgressDisplay Start(string description, double total)
    {
        var settings = Terminal.Error;
        return new ProgressDisplay(description, total, settings.Ansi && total > 0 ? settings : null);
    }

    /// <summary>True when a bar is drawn.</summary>
    public bool Shown => _renderer is not null;

    /// <summary>Units done so far.</summary>
    public void Report(double done) => Volatile.Write(ref _done, done);

    /// <summary>A line of standard output (held back while the bar is drawn on the same terminal).</summary>
    public void WriteLine(string line)
    {
        if (_renderer is not null && _holdLines && !_stop.IsSet) _held.Add(line);
        else Console.Out.WriteLine(line);
    }

    /// <summary>Removes the bar and prints the lines held back.</summary>
    public void Stop()
    {
        if (_renderer is null || _stop.IsSet) return;
        _stop.Set();
        _renderer.Join();
        foreach (var l in _held) Console.Out.WriteLine(l);
        _held.Clear();
    }

    /// <inheritdoc/>
    public void Dispose() => Stop();
}
