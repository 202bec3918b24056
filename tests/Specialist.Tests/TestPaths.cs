namespace Specialist.Tests;

/// <summary>Where the tests find the repository and the shared real data (../shared/data beside the checkout).</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The real data: <c>$SPECIALIST_TEST_DATA</c> if set, else <c>../shared/data</c> beside the checkout.</summary>
    public static string DataRoot { get; } =
        Environment.GetEnvironmentVariable("SPECIALIST_TEST_DATA") is { Length: > 0 } d ? d : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    public static string T5SpieceModel => Path.Combine(DataRoot, "tokenizers", "t5", "spiece.model");

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "specialist-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Specialist.slnx"))) return dir.FullName;
        // Built with --artifacts-path outside the checkout: fall back to the working directory.
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Specialist.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Specialist.slnx) above " + AppContext.BaseDirectory);
    }
}
