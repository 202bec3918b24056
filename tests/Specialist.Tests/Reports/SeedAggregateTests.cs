using System.Text.Json.Nodes;
using Specialist.Reports;

namespace Specialist.Tests.Reports;

/// <summary>The aggregate of several seeds' phenomena.json: synthetic per-seed files in, mean ± sample sd and verdict counts out.</summary>
public class SeedAggregateTests
{
    /// <summary>One seed's numbers: per student (s, m) math ID after; the rest derived so every figure differs by seed.</summary>
    private sealed record SeedNumbers(ulong Seed, double SMathAfter, double MMathAfter, bool P1, bool P2);

    [Fact]
    public void EveryFigureIsTheMeanAndSampleSdOverSeedsAndEachPhenomenonCountsItsVerdicts()
    {
        var root = TestPaths.NewTempDir();
        var seeds = new[] { new SeedNumbers(0, 0.20, 0.30, true, false), new SeedNumbers(1, 0.30, 0.50, true, false), new SeedNumbers(2, 0.40, 0.40, false, false) };

        var aggregate = SeedAggregate.Of([.. seeds.Select(s => SeedPhenomena.Read(s.Seed, WriteSeed(root, s)))]);

        Assert.Equal("quick", aggregate.Profile);
        Assert.Equal([0UL, 1UL, 2UL], aggregate.Seeds);
        var s = aggregate.Students[0];
        Assert.Equal(("s", 1000L), (s.Name, s.Params));
        // Sample sd (n − 1): 0.1 for 0.2, 0.3, 0.4 (the population sd would be 0.0816).
        Assert.Equal(0.30, s["math_id_after"].Mean, 12);
        Assert.Equal(0.10, s["math_id_after"].Sd, 12);
        Assert.Equal([0.20, 0.30, 0.40], s["math_id_after"].Values);
        Assert.Equal(0.40, aggregate.Students[1]["math_id_after"].Mean, 12);
        Assert.Equal(0.10, aggregate.Students[1]["math_id_after"].Sd, 12);
        // A figure the same in every seed has no spread.
        Assert.Equal(0.05, s["math_id_before"].Mean, 12);
        Assert.Equal(0, s["math_id_before"].Sd, 12);
        Assert.Equal(0.5, aggregate.Students[1]["generic_before"].Mean, 12);
        Assert.Equal(0.25, aggregate.Control["math_id"].Mean, 12);
        Assert.Equal(0.10, aggregate.Control["math_id"].Sd, 12);
        Assert.Equal(0.60, aggregate.Teacher["math_id"].Mean, 12);
        Assert.Equal(0.70, aggregate.Teacher["kept_rate"].Mean, 12);

        var p1 = aggregate.Phenomena.Single(p => p.Id == "P1");
        Assert.Equal(2, p1.Holds);
        Assert.Equal([KeyValuePair.Create("observed", 2), KeyValuePair.Create("not observed", 1)], p1.Counts);
        Assert.Equal("observed in 2 of 3 seeds (not observed 1)", p1.Summary);
        var p2 = aggregate.Phenomena.Single(p => p.Id == "P2");
        Assert.Equal([KeyValuePair.Create("observed", 0), KeyValuePair.Create("inconclusive", 3)], p2.Counts);

        // phenomena.json of the aggregate: the same numbers, each seed's too, and the files relative to the multi-seed folder.
        var json = aggregate.ToJson(path => Path.GetRelativePath(root, path));
        Assert.Equal("seed-1/report/phenomena.json", json["files"]!["1"]!.GetValue<string>());
        Assert.Equal(2, json["phenomena"]!["P1"]!["holds_in"]!.GetValue<int>());
        Assert.Equal(1, json["phenomena"]!["P1"]!["verdicts"]!["not observed"]!.GetValue<int>());
        Assert.Equal("not observed", json["phenomena"]!["P1"]!["by_seed"]!["2"]!.GetValue<string>());
        var mathAfter = json["students"]![0]!["math_id_after"]!;
        Assert.Equal((0.3, 0.1), (mathAfter["mean"]!.GetValue<double>(), mathAfter["sd"]!.GetValue<double>()));
        Assert.Equal(3, mathAfter["values"]!.AsArray().Count);
        Assert.Equal("s", json["control"]!["student"]!.GetValue<string>());
        Assert.Equal(0.7, json["teacher"]!["kept_rate"]!["mean"]!.GetValue<double>());
    }

    [Theory]
    [InlineData("students", "generic_after")]
    [InlineData("control", "ood")]
    [InlineData("teacher", "kept_rate")]
    public void ASeedWithoutAFigureIsAnErrorNamingItsFileAndFieldNeverAZero(string section, string field)
    {
        var root = TestPaths.NewTempDir();
        var good = WriteSeed(root, new SeedNumbers(0, 0.2, 0.3, true, true));
        var bad = WriteSeed(root, new SeedNumbers(1, 0.3, 0.4, true, true));
        var json = JsonNode.Parse(File.ReadAllText(bad))!;
        var holder = section == "students" ? json["students"]![1]!.AsObject() : json[section]!.AsObject();
        holder.Remove(field);
        File.WriteAllText(bad, json.ToJsonString());

        var error = Assert.Throws<DataFormatException>(() => SeedAggregate.Of([SeedPhenomena.Read(0, good), SeedPhenomena.Read(1, bad)]));

        Assert.Equal(bad, error.File);
        Assert.Equal(field, error.Field);
        Assert.Equal(section == "students" ? "students[1]" : section, error.Location);
        Assert.Contains(bad, error.Message);
    }

    [Fact]
    public void SeedsThatAreNotRepeatsOfOneExperimentDoNotAggregate()
    {
        var root = TestPaths.NewTempDir();
        var zero = WriteSeed(root, new SeedNumbers(0, 0.2, 0.3, true, true));
        var one = WriteSeed(root, new SeedNumbers(1, 0.3, 0.4, true, true));
        SeedPhenomena Seed(ulong seed, string file) => SeedPhenomena.Read(seed, file);

        // One seed has no sd; a seed given twice is not two seeds.
        Assert.Contains("at least two", Assert.Throws<SpecialistException>(() => SeedAggregate.Of([Seed(0, zero)])).Message);
        Assert.Contains("more than once", Assert.Throws<SpecialistException>(() => SeedAggregate.Of([Seed(0, zero), Seed(0, zero)])).Message);
        // The file must be the run of the seed it is read for.
        Assert.Equal("seed", Assert.Throws<DataFormatException>(() => SeedAggregate.Of([Seed(0, zero), Seed(2, one)])).Field);

        // Another profile, other students, another student size.
        void Edit(Action<JsonNode> change)
        {
            var json = JsonNode.Parse(File.ReadAllText(one))!;
            change(json);
            File.WriteAllText(one, json.ToJsonString());
        }
        Edit(j => j["profile"] = "default");
        Assert.Equal("profile", Assert.Throws<DataFormatException>(() => SeedAggregate.Of([Seed(0, zero), Seed(1, one)])).Field);
        Edit(j => { j["profile"] = "quick"; j["students"]![1]!["name"] = "xl"; });
        var renamed = Assert.Throws<DataFormatException>(() => SeedAggregate.Of([Seed(0, zero), Seed(1, one)]));
        Assert.Equal(("students[1]", "name"), (renamed.Location, renamed.Field));
        Edit(j => { j["students"]![1]!["name"] = "m"; j["students"]![1]!["params"] = 3000; });
        var resized = Assert.Throws<DataFormatException>(() => SeedAggregate.Of([Seed(0, zero), Seed(1, one)]));
        Assert.Equal((one, "params"), (resized.File, resized.Field));

        // A seed whose run has not written its report yet.
        Assert.Contains("seed 3", Assert.Throws<SpecialistException>(() => Seed(3, Path.Combine(root, "seed-3", "report", "phenomena.json"))).Message);
    }

    [Fact]
    public void TheReportGivesMeanAndSdWithRelativePathsAndDrawsBothFigures()
    {
        var root = TestPaths.NewTempDir();
        var files = new[] { new SeedNumbers(0, 0.2, 0.3, true, false), new SeedNumbers(1, 0.3, 0.5, false, false) }.Select(s => (s.Seed, File: WriteSeed(root, s))).ToList();
        var aggregate = SeedAggregate.Of([.. files.Select(f => SeedPhenomena.Read(f.Seed, f.File))]);
        var folder = Path.Combine(root, "report");

        SeedReport.Write(aggregate, folder, root);

        var md = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.DoesNotContain(root, md);
        Assert.Contains("[seed-0/report/report.md](../seed-0/report/report.md)", md);
        Assert.Contains("| P1 | Specialization lifts math | 1 of 2 | 1 of 2 | 0 of 2 | observed | not observed |", md);
        Assert.Contains("| s | 1,000 | 5.0 ± 0.0% | 25.0 ± 7.1% |", md);
        foreach (var figure in new[] { "math-id-over-seeds", "generic-over-seeds" })
        {
            Assert.Contains($"]({figure}.png)", md);
            Assert.True(new FileInfo(Path.Combine(folder, figure + ".png")).Length > 10_000, figure);
            Assert.True(File.Exists(Path.Combine(folder, figure + ".svg")), figure);
        }
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "phenomena.json")))!;
        Assert.Equal("seed-0/report/phenomena.json", json["files"]!["0"]!.GetValue<string>());
        Assert.DoesNotContain(root, json.ToJsonString());
    }

    private static PhenomenonVerdict Verdict(bool observed) => observed ? PhenomenonVerdict.Observed : PhenomenonVerdict.NotObserved;

    // seed-N/report/phenomena.json as a miniature run writes it, through Phenomena.Write (P2 not observed is inconclusive here, a third verdict to count).
    private static string WriteSeed(string root, SeedNumbers n)
    {
        var path = Path.Combine(root, $"seed-{n.Seed}", "report", "phenomena.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        JsonObject Student(string name, long parameters, double mathAfter, double genericBefore) => new()
        {
            ["name"] = name, ["params"] = parameters, ["math_id_before"] = 0.05, ["math_id_after"] = mathAfter,
            ["ood_before"] = 0.02, ["ood_after"] = mathAfter / 2, ["generic_before"] = genericBefore, ["generic_after"] = genericBefore - 0.1,
        };
        Phenomena.Write(path,
        [
            new Phenomenon("P1", "Specialization lifts math", "rule", Verdict(n.P1), "…", new JsonObject()),
            new Phenomenon("P2", "Generic ability falls", "rule", n.P2 ? PhenomenonVerdict.Observed : PhenomenonVerdict.Inconclusive, "…", new JsonObject()),
        ], new JsonObject
        {
            ["profile"] = "quick",
            ["seed"] = n.Seed,
            ["students"] = new JsonArray(Student("s", 1000, n.SMathAfter, 0.4), Student("m", 2000, n.MMathAfter, 0.5)),
            ["control"] = new JsonObject { ["student"] = "s", ["params"] = 1000, ["math_id"] = n.SMathAfter - 0.05, ["ood"] = 0.1, ["generic"] = 0.3 },
            ["teacher"] = new JsonObject { ["params"] = 9000, ["math_id"] = 0.6, ["ood"] = 0.4, ["kept_rate"] = 0.6 + 0.1 * n.Seed },
        });
        return path;
    }
}
