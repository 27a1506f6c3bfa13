using System.Globalization;
using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>A progress bar on stderr — only when stderr is a terminal; redirected, nothing is drawn.</summary>
internal static class ProgressDisplay
{
    public static bool Enabled => !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="work"/> with a bar it updates through the callback (fraction 0..1, status text).</summary>
    public static T Run<T>(string title, Func<Action<double, string>, T> work)
    {
        if (!Enabled) return work((_, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1000);
                result = work((fraction, status) =>
                {
                    task.Value = Math.Clamp(fraction, 0, 1) * 1000;
                    task.Description = Markup.Escape($"{title} {status}");
                });
                task.Value = 1000;
            });
        return result;
    }

    public static string Rate(long count, TimeSpan elapsed, string unit)
        => elapsed.TotalSeconds <= 0 ? "" : $"{(count / elapsed.TotalSeconds / 1e6).ToString("0.0", CultureInfo.InvariantCulture)} M {unit}/s";
}
