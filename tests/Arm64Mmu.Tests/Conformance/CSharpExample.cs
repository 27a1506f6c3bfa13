using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Arm64Mmu.Tests.Conformance;

/// <summary>Compiles and runs C# examples taken from the repository's Markdown, so documentation cannot show APIs that do not exist.</summary>
internal static class CSharpExample
{
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Arm64Mmu.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Arm64Mmu.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The first ```csharp block after <paramref name="heading"/> in a Markdown file of the repository.</summary>
    public static string Block(string relativePath, string heading)
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), relativePath));
        int at = text.IndexOf(heading + "\n", StringComparison.Ordinal);
        at.Should().BeGreaterThanOrEqualTo(0, $"{relativePath} has the heading \"{heading}\"");
        int end = text.IndexOf("\n## ", at + heading.Length, StringComparison.Ordinal);
        string section = end < 0 ? text[at..] : text[at..end];
        var m = Regex.Match(section, @"```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        m.Success.Should().BeTrue($"{relativePath} has a C# block under \"{heading}\"");
        return m.Groups["code"].Value;
    }

    /// <summary>Compiles <paramref name="program"/> (top-level statements) against the test's assemblies and runs it.</summary>
    public static void Run(string program, params Assembly[] extra)
    {
        var compilation = Compile(program, extra);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty();
        emitted.Success.Should().BeTrue();
        var entry = Assembly.Load(image.ToArray()).EntryPoint!;
        try { entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]); }
        catch (TargetInvocationException e) when (e.InnerException is not null) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException); }
    }

    /// <summary>The errors compiling <paramref name="program"/> (top-level statements) against the test's assemblies gives.</summary>
    public static IReadOnlyList<Diagnostic> Errors(string program, params Assembly[] extra)
        => Compile(program, extra).GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    private static CSharpCompilation Compile(string program, Assembly[] extra)
    {
        var refs = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Concat(extra.Select(a => a.Location))
            .Distinct()
            .Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("Example",
            [CSharpSyntaxTree.ParseText(program, new CSharpParseOptions(LanguageVersion.Latest))], refs,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
    }
}
