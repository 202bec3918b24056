using System.Text.RegularExpressions;

namespace Specialist.Tests;

/// <summary>
/// The rules of docs/architecture.md that the compiler does not check: the library's stage folders import one another
/// without cycles, and never the CLI.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Library = Path.Combine(TestPaths.RepoRoot, "src", "Specialist");

    /// <summary>Per stage folder, the other stage folders its files name: <c>using Specialist.X</c> or a qualified <c>X.Type</c>.</summary>
    private static Dictionary<string, HashSet<string>> Imports()
    {
        var stages = Directory.EnumerateDirectories(Library).Select(Path.GetFileName).OfType<string>()
            .Where(d => d is not ("bin" or "obj")).ToHashSet(StringComparer.Ordinal);
        var imports = stages.ToDictionary(s => s, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var stage in stages)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Library, stage), "*.cs", SearchOption.AllDirectories))
            {
                var text = File.ReadAllText(file);
                var named = UsingPattern().Matches(text).Select(m => m.Groups[1].Value)
                    .Concat(QualifiedPattern().Matches(text).Select(m => m.Groups[1].Value));
                foreach (var other in named.Where(n => n != stage && stages.Contains(n))) imports[stage].Add(other);
            }
        return imports;
    }

    [Fact]
    public void Stage_folders_import_each_other_without_cycles()
    {
        var imports = Imports();
        Assert.Contains("Training", imports["Pipeline"]); // the scan sees imports at all
        bool Reaches(string from, string to, HashSet<string> seen) =>
            from == to || imports[from].Any(next => seen.Add(next) && Reaches(next, to, seen));
        var cycles = imports.SelectMany(p => p.Value.Where(to => Reaches(to, p.Key, [])).Select(to => $"{p.Key} -> {to}")).ToList();
        Assert.True(cycles.Count == 0, "import cycles between stage folders: " + string.Join(", ", cycles));
    }

    [Fact]
    public void The_library_never_names_the_cli()
    {
        var offenders = Directory.EnumerateFiles(Library, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("Specialist.Cli", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Library, f)).ToList();
        Assert.Empty(offenders);
    }

    [GeneratedRegex(@"^using (?:static )?Specialist\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingPattern();

    [GeneratedRegex(@"\b(Data|Answers|Prompts|Tokenization|Models|Teachers|Alignment|Training|Evaluation|Reports|Synthetic|Pipeline|Benchmarks|Common)\.[A-Z]\w+")]
    private static partial Regex QualifiedPattern();
}
