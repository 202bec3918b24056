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

    /// <summary>The checkout the tests were built from (recorded by the test project at build time).</summary>
    private static string FindRepoRoot()
    {
        var recorded = typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        if (!File.Exists(Path.Combine(recorded, "Specialist.slnx")))
            throw new InvalidOperationException($"the checkout recorded at build time ({recorded}) has no Specialist.slnx: rebuild the tests");
        return recorded;
    }
}
