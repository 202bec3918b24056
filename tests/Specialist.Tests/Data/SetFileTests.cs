using Specialist.Data;
using Specialist.Synthetic;

namespace Specialist.Tests.Data;

/// <summary>Sets kept as files in a data root's <c>sets/</c> folder, loaded by name.</summary>
public sealed class SetFileTests
{
    [Fact]
    public void A_set_file_in_the_data_root_loads_by_its_name()
    {
        var root = TestPaths.NewTempDir();
        var problems = SyntheticTasks.Generate(SyntheticTaskKind.Math, 12, seed: 3)
            .Concat(SyntheticTasks.Generate(SyntheticTaskKind.Generic, 8, seed: 3)).ToList();
        SetFile.Write(Path.Combine(root, "sets", "mix-train.jsonl"), problems);

        var loaded = ProblemSets.Load("mix-train", new DataOptions(root));

        Assert.Equal(problems, loaded);
        Assert.Equal(Path.Combine(root, "sets", "mix-train.jsonl"), ProblemSets.SetFilePath(root, "mix-train"));
        Assert.Equal(problems[^1].Answer, ProblemSets.LoadById("mix-train", new DataOptions(root))[problems[^1].Id].Answer);
    }

    [Fact]
    public void An_unknown_name_names_the_set_file_it_looked_for()
    {
        var root = TestPaths.NewTempDir();

        var e = Assert.Throws<SpecialistException>(() => ProblemSets.Load("mix-dev", new DataOptions(root)));

        Assert.Contains("unknown set 'mix-dev'", e.Message);
        Assert.Contains(Path.Combine(root, "sets", "mix-dev.jsonl"), e.Message);
        Assert.Contains("gsm8k-train", e.Message);
    }
}
