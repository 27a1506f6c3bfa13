using Spectre.Console;

namespace Arm64Mmu.Cli.Simulation;

/// <summary>Standard output for tables: plain text (no escape sequences) when it is redirected to a file or pipe.</summary>
internal static class Consoles
{
    /// <summary>A console over the current Console.Out (made afresh: tests redirect Console.Out between runs).</summary>
    public static IAnsiConsole Out => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Out),
        Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
    });
}
