namespace Specialist.Tests;

public sealed class AtomicFileTests
{
    [Fact]
    public void Writing_into_a_missing_folder_names_the_path_and_the_folder()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "missing");
        var path = Path.Combine(folder, "out.json");
        var e = Assert.Throws<SpecialistException>(() => AtomicFile.WriteText(path, "{}"));
        Assert.Contains(path, e.Message);
        Assert.Contains(folder, e.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void A_failing_write_leaves_the_old_file_and_no_temp_file()
    {
        var folder = TestPaths.NewTempDir();
        var path = Path.Combine(folder, "out.txt");
        AtomicFile.WriteText(path, "old");
        var e = Assert.Throws<SpecialistException>(() => AtomicFile.Write(path, _ => throw new IOException("disk full")));
        Assert.Contains(path, e.Message);
        Assert.Contains("disk full", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }
}
