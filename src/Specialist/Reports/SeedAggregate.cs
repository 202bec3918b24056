using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Specialist.Reports;

/// <summary>How often one phenomenon got each verdict over the seeds of a multi-seed run.</summary>
/// <param name="Id"><c>P1</c> … <c>P6</c>.</param>
/// <param name="Title">What the paper found.</param>
/// <param name="Verdicts">Each seed's verdict (<c>observed</c>, <c>not observed</c>, …), in the order of the seeds.</param>
public sealed record PhenomenonTally(string Id, string Title, IReadOnlyList<string> Verdicts)
{
    /// <summary>The seeds in which the phenomenon holds (verdict <c>observed</c>).</summary>
    public int Holds => Verdicts.Count(v => v == SeedAggregate.ObservedVerdict);

    /// <summary>Whether the phenomenon holds in the seed at <paramref name="seedIndex"/> (in the order of the seeds).</summary>
    public bool ObservedIn(int seedIndex) => Verdicts[seedIndex] == SeedAggregate.ObservedVerdict;

    /// <summary>Seeds per verdict: <c>observed</c> first (zero included), then the other verdicts given, in order of first appearance.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Counts =>
        [.. Verdicts.Prepend(SeedAggregate.ObservedVerdict).Distinct(StringComparer.Ordinal).Select(v => KeyValuePair.Create(v, Verdicts.Count(x => x == v)))];

    /// <summary>"observed in 2 of 3 seeds (not observed 1)".</summary>
    public string Summary
    {
        get
        {
            var others = Counts.Skip(1).Select(c => $"{c.Key} {c.Value}").ToList();
            return $"observed in {Holds} of {Verdicts.Count} seeds" + (others.Count > 0 ? $" ({string.Join(", ", others)})" : "");
        }
    }
}

/// <summary>One figure over seeds: mean, sample standard deviation (n − 1) and each seed's value, in the order of the seeds.</summary>
internal sealed record Spread(double Mean, double Sd, IReadOnlyList<double> Values)
{
    public static Spread Of(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Spread(mean, sd, values);
    }

    public JsonObject ToJson() => new()
    {
        ["mean"] = Round(Mean), ["sd"] = Round(Sd), ["values"] = new JsonArray([.. Values.Select(v => (JsonNode?)v)]),
    };

    /// <summary>A fraction as "12.3 ± 1.4%" (the sd in percentage points), beside <see cref="ReportFigures.Percent"/>'s "12.3%".</summary>
    public string Percent() => string.Create(CultureInfo.InvariantCulture, $"{100 * Mean:F1} ± {100 * Sd:F1}%");

    private static double Round(double value) => Math.Round(value, 4);
}

/// <summary>A model's figures over seeds (a student, the control or the teacher), keyed as in each seed's phenomena.json.</summary>
/// <param name="Name">The student's name (the control's student; <c>teacher</c> for the teacher).</param>
/// <param name="Params">Its parameter count, the same in every seed.</param>
/// <param name="Figures">Each figure's spread, in the order of <see cref="SeedAggregate.StudentFigures"/> (or the control's, the teacher's).</param>
internal sealed record ModelSpread(string Name, long Params, IReadOnlyList<KeyValuePair<string, Spread>> Figures)
{
    public Spread this[string figure] => Figures.Single(f => f.Key == figure).Value;
}

/// <summary>One seed's run as the aggregate reads it: its phenomena (through <see cref="Reports.Phenomena"/>) and its whole phenomena.json.</summary>
/// <param name="Seed">The seed the run was made with.</param>
/// <param name="File">Its phenomena.json, named in errors.</param>
/// <param name="Phenomena">Its phenomena.</param>
/// <param name="Root">The whole file: the students, the control and the teacher.</param>
internal sealed record SeedPhenomena(ulong Seed, string File, IReadOnlyList<Phenomenon> Phenomena, JsonObject Root)
{
    public static SeedPhenomena Read(ulong seed, string file)
    {
        if (!System.IO.File.Exists(file)) throw new SpecialistException($"{file} is missing: the run of seed {seed} has not written its report");
        var phenomena = Reports.Phenomena.Read(file);
        var root = (JsonObject)JsonNode.Parse(System.IO.File.ReadAllText(file))!; // Phenomena.Read checked it is an object
        return new SeedPhenomena(seed, file, phenomena, root);
    }
}

/// <summary>
/// A multi-seed run's figures: every per-seed figure of phenomena.json (the students' math ID, OOD and generic
/// accuracy before and after, the control, the teacher) as mean ± sample sd over the seeds, and for each phenomenon how
/// many seeds gave each verdict. Figures are read as written, never defaulted: a seed that lacks one is an error that
/// names its file and field.
/// </summary>
internal sealed record SeedAggregate(string Profile, IReadOnlyList<ulong> Seeds, IReadOnlyList<string> Files, IReadOnlyList<PhenomenonTally> Phenomena,
    IReadOnlyList<ModelSpread> Students, ModelSpread Control, ModelSpread Teacher)
{
    public static readonly string ObservedVerdict = Reports.Phenomena.VerdictTexts[(int)PhenomenonVerdict.Observed];

    public static readonly IReadOnlyList<string> StudentFigures = ["math_id_before", "math_id_after", "ood_before", "ood_after", "generic_before", "generic_after"];
    public static readonly IReadOnlyList<string> ControlFigures = ["math_id", "ood", "generic"];
    public static readonly IReadOnlyList<string> TeacherFigures = ["math_id", "ood", "kept_rate"];

    /// <summary>The one place a phenomenon's verdict is read, as phenomena.json writes it.</summary>
    internal static string VerdictOf(Phenomenon phenomenon) => phenomenon.VerdictText;

    /// <summary>Aggregates the runs of two or more distinct seeds of one profile, in the order given.</summary>
    public static SeedAggregate Of(IReadOnlyList<SeedPhenomena> seeds)
    {
        CheckSeeds(seeds.Select(s => s.Seed).ToList());
        var first = seeds[0];
        var profile = Text(first, first.Root, "top level", "profile");
        foreach (var s in seeds)
        {
            if (Text(s, s.Root, "top level", "profile") != profile)
                throw new DataFormatException(s.File, "top level", "profile", $"is '{Text(s, s.Root, "top level", "profile")}', but {first.File} has '{profile}': seeds of different profiles do not aggregate");
            if (s.Root["seed"] is not JsonValue v || !v.TryGetValue<ulong>(out var recorded) || recorded != s.Seed)
                throw new DataFormatException(s.File, "top level", "seed", $"is not {s.Seed}, the seed this run was asked for");
        }

        var tallies = first.Phenomena.Select(p => new PhenomenonTally(p.Id, p.Title, [.. seeds.Select(s =>
            VerdictOf(s.Phenomena.FirstOrDefault(q => q.Id == p.Id) ?? throw new DataFormatException(s.File, "phenomena", p.Id, "is missing")))])).ToList();

        var names = Items(first, first.Root, "students").Select((n, i) => Text(first, Section(first, n, $"students[{i}]"), $"students[{i}]", "name")).ToList();
        var students = names.Select((name, i) => Model(seeds, name, s =>
        {
            var list = Items(s, s.Root, "students");
            if (list.Count != names.Count) throw new DataFormatException(s.File, "top level", "students", $"has {list.Count} students, but {first.File} has {names.Count}");
            var location = $"students[{i}]";
            var student = Section(s, list[i], location);
            if (Text(s, student, location, "name") != name)
                throw new DataFormatException(s.File, location, "name", $"is '{Text(s, student, location, "name")}', but {first.File} has '{name}' there");
            return (student, location);
        }, "params", StudentFigures)).ToList();
        var control = Model(seeds, Text(first, Section(first, first.Root["control"], "control"), "control", "student"),
            s => (Section(s, s.Root["control"], "control"), "control"), "params", ControlFigures);
        var teacher = Model(seeds, "teacher", s => (Section(s, s.Root["teacher"], "teacher"), "teacher"), "params", TeacherFigures);
        return new SeedAggregate(profile, [.. seeds.Select(s => s.Seed)], [.. seeds.Select(s => s.File)], tallies, students, control, teacher);
    }

    /// <summary>Two or more seeds, each once: one seed has no spread (its sd is undefined).</summary>
    public static void CheckSeeds(IReadOnlyList<ulong> seeds)
    {
        if (seeds.Count < 2) throw new SpecialistException($"several seeds means at least two (got {seeds.Count}); one seed is a plain run (--seed)");
        var repeated = seeds.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0) throw new SpecialistException($"seed {string.Join(", ", repeated)} is given more than once");
    }

    /// <summary>
    /// phenomena.json of the aggregate: <c>profile</c>, <c>seeds</c>, <c>files</c> (each seed's phenomena.json as
    /// <paramref name="shown"/> shows it), <c>phenomena</c> (per id: title, <c>holds_in</c>, <c>verdicts</c> counts,
    /// <c>by_seed</c>), <c>students</c>, <c>control</c> and <c>teacher</c> with each figure as <c>{mean, sd, values}</c>.
    /// </summary>
    public JsonObject ToJson(Func<string, string> shown)
    {
        var phenomena = new JsonObject();
        foreach (var p in Phenomena)
            phenomena[p.Id] = new JsonObject
            {
                ["title"] = p.Title,
                ["holds_in"] = p.Holds,
                ["verdicts"] = new JsonObject([.. p.Counts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))]),
                ["by_seed"] = new JsonObject([.. Seeds.Zip(p.Verdicts, (s, v) => KeyValuePair.Create(Key(s), (JsonNode?)v))]),
            };
        JsonObject Model(ModelSpread m, string? nameKey)
        {
            var o = nameKey is null ? new JsonObject() : new JsonObject { [nameKey] = m.Name };
            o["params"] = m.Params;
            foreach (var (figure, spread) in m.Figures) o[figure] = spread.ToJson();
            return o;
        }
        return new JsonObject
        {
            ["profile"] = Profile,
            ["seeds"] = new JsonArray([.. Seeds.Select(s => (JsonNode?)s)]),
            ["statistics"] = "mean and sample standard deviation (n - 1) over the seeds; values: one per seed, in the order of seeds",
            ["files"] = new JsonObject([.. Seeds.Zip(Files, (s, f) => KeyValuePair.Create(Key(s), (JsonNode?)shown(f)))]),
            ["phenomena"] = phenomena,
            ["students"] = new JsonArray([.. Students.Select(s => (JsonNode?)Model(s, "name"))]),
            ["control"] = Model(Control, "student"),
            ["teacher"] = Model(Teacher, null),
        };
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Write(string path, Func<string, string> shown) =>
        AtomicFile.WriteText(path, ToJson(shown).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    private static string Key(ulong seed) => seed.ToString(CultureInfo.InvariantCulture);

    // Reads one model's parameter count (the same in every seed) and figures from each seed.
    private static ModelSpread Model(IReadOnlyList<SeedPhenomena> seeds, string name, Func<SeedPhenomena, (JsonObject Model, string Location)> find, string paramsField, IReadOnlyList<string> figures)
    {
        var found = seeds.Select(s => (Seed: s, Found: find(s))).ToList();
        var parameters = found.Select(f => (long)Number(f.Seed, f.Found.Model, f.Found.Location, paramsField)).ToList();
        if (parameters.Distinct().Count() > 1)
        {
            var other = found[parameters.FindIndex(p => p != parameters[0])];
            throw new DataFormatException(other.Seed.File, other.Found.Location, paramsField, $"is {(long)Number(other.Seed, other.Found.Model, other.Found.Location, paramsField)}, " +
                $"but {seeds[0].File} has {parameters[0]}: seeds of different models do not aggregate");
        }
        return new ModelSpread(name, parameters[0],
            [.. figures.Select(figure => KeyValuePair.Create(figure, Spread.Of([.. found.Select(f => Number(f.Seed, f.Found.Model, f.Found.Location, figure))])))]);
    }

    private static double Number(SeedPhenomena seed, JsonObject o, string location, string field) =>
        o[field] is JsonValue v && v.TryGetValue<double>(out var x) && double.IsFinite(x) ? x
            : throw new DataFormatException(seed.File, location, field, "is missing or not a number");

    private static string Text(SeedPhenomena seed, JsonObject o, string location, string field) =>
        o[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new DataFormatException(seed.File, location, field, "is missing or not a string");

    private static JsonObject Section(SeedPhenomena seed, JsonNode? node, string location) =>
        node as JsonObject ?? throw new DataFormatException(seed.File, location, null, "is missing or not an object");

    private static JsonArray Items(SeedPhenomena seed, JsonObject o, string field) =>
        o[field] as JsonArray ?? throw new DataFormatException(seed.File, "top level", field, "is missing or not an array");
}
