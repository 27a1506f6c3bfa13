using System.Globalization;
using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>
/// The bar of a simulation or sweep on standard error, with a status (accesses per second, runs done) and the time
/// left — drawn only when standard error is a terminal that takes escape codes (<see cref="Terminal.Error"/>); when it
/// is redirected, or NO_COLOR is set, nothing is drawn. (<see cref="ProgressDisplay"/> is the plain counter of the
/// other commands; this one also shows a changing status line.)
/// </summary>
internal static class RunProgressBar
{
    public static bool Enabled => Terminal.Error.Ansi;

    /// <summary>Runs <paramref name="work"/> with a bar it updates through the callback (fraction 0..1, status text).</summary>
    public static T Run<T>(string title, Func<Action<double, string>, T> work)
    {
        if (!Enabled) return work((_, _) => { });
        var console = Terminal.Create(Console.Error, Terminal.Error);
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
