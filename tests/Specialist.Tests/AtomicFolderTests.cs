namespace Specialist.Tests;

public sealed class AtomicFolderTests
{
    [Fact]
    public void A_folder_is_renamed_into_place_once_built_and_a_failed_build_leaves_nothing()
    {
        var parent = TestPaths.NewTempDir();
        var path = Path.Combine(parent, "model");
        AtomicFolder.Write(path, temp =>
        {
            Assert.True(AtomicFile.IsTemporary(Path.GetFileName(temp)));
            Assert.False(Directory.Exists(path));
            File.WriteAllText(Path.Combine(temp, "config.json"), "{}");
        });
        Assert.Equal(["config.json"], Directory.GetFiles(path).Select(Path.GetFileName));

        var failed = Path.Combine(parent, "failed");
        Assert.Throws<IOException>(() => AtomicFolder.Write(failed, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "config.json"), "{}");
            throw new IOException("disk full");
        }));
        Assert.Equal([path], Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public void Leftovers_are_removed_at_every_depth_links_included_and_nothing_else_is_touched_or_followed()
    {
        var root = TestPaths.NewTempDir();
        var run = Directory.CreateDirectory(Path.Combine(root, "run")).FullName;
        var checkpoints = Directory.CreateDirectory(Path.Combine(run, "checkpoints")).FullName;
        var kept = Directory.CreateDirectory(Path.Combine(checkpoints, "step-000010")).FullName;
        File.WriteAllText(Path.Combine(kept, "model.safetensors"), "weights");
        File.WriteAllText(Path.Combine(run, "stages.json"), "{}");
        // What killed writes leave: a file, a folder being filled, a link about to be renamed over best-ood.
        var leftovers = new[]
        {
            AtomicFile.TemporaryPath(Path.Combine(run, "stages.json")),
            AtomicFile.TemporaryPath(Path.Combine(checkpoints, "step-000020")),
            AtomicFile.TemporaryPath(Path.Combine(run, "best-ood")),
        };
        File.WriteAllText(leftovers[0], "{");
        Directory.CreateDirectory(leftovers[1]);
        File.WriteAllText(Path.Combine(leftovers[1], "model.safetensors"), "half");
        File.CreateSymbolicLink(leftovers[2], "checkpoints/step-000010");
        // A link to a folder outside the run, holding a temporary-looking name: neither followed nor emptied.
        var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
        var foreign = AtomicFile.TemporaryPath(Path.Combine(outside, "x"));
        File.WriteAllText(foreign, "not the run's");
        File.CreateSymbolicLink(Path.Combine(run, "elsewhere"), outside);
        // A name that merely looks alike is not a temporary.
        File.WriteAllText(Path.Combine(run, ".notes.tmp"), "mine");

        AtomicFolder.RemoveLeftovers(run);

        Assert.All(leftovers, l => Assert.False(Path.Exists(l), l));
        Assert.True(File.Exists(Path.Combine(kept, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "stages.json")));
        Assert.True(File.Exists(Path.Combine(run, ".notes.tmp")));
        Assert.True(File.Exists(foreign));
    }

    [Fact]
    public void A_deleted_folder_is_gone_under_its_name_at_once()
    {
        var parent = TestPaths.NewTempDir();
        var path = Path.Combine(parent, "step-000010");
        Directory.CreateDirectory(Path.Combine(path, "inner"));
        File.WriteAllText(Path.Combine(path, "inner", "file"), "x");
        AtomicFolder.Delete(path);
        AtomicFolder.Delete(path); // absent: nothing to do
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }
}
