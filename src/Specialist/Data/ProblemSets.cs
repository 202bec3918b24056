
namespace Specialist.Data;

/// <summary>How to load a set: the data root and, for <c>custom</c>, the file and its fields.</summary>
/// <param name="Root">The data root (see <see cref="DataRoot.Resolve"/>).</param>
/// <param name="Custom">Required for the <c>custom</c> set.</param>
public sealed record DataOptions(string Root, CustomSetOptions? Custom = null);

/// <summary>A user's own JSON array or JSONL file. Fields may be dotted paths with array indices (<c>meta.answer</c>, <c>lSolutions[0]</c>).</summary>
public sealed record CustomSetOptions(string Path, string QuestionField, string AnswerField, string? IdField = null);

/// <summary>Every named problem set, loaded by name (<c>gsm8k-train</c>, <c>bbh/navigate</c>, <c>custom</c>, ...).</summary>
/// <remarks>
/// <list type="table">
/// <item><term>gsm8k-train, gsm8k-test</term><description>gsm8k/{train,test}.jsonl; id <c>gsm8k-train/&lt;i&gt;</c>; gold = the number after
/// <c>####</c> (thousands commas dropped); rationale = the text before it, calculator marks kept
/// (<see cref="GsmRationale.StripCalculatorMarks"/> removes them).</description></item>
/// <item><term>gsm8k-dev</term><description>the 200 train problems of gsm8k/dev_indices.json, with their train ids.</description></item>
/// <item><term>multiarith-dev, multiarith-test</term><description>multiarith/MultiArith.json split 200/400 by a fixed keyed hash
/// (seed 230112726, see <c>MultiArithSet</c>); id <c>multiarith/&lt;iIndex&gt;</c>.</description></item>
/// <item><term>asdiv</term><description>asdiv/ASDiv.xml, all 2,305 problems; id <c>asdiv/&lt;ID&gt;</c>; units dropped from answers.</description></item>
/// <item><term>svamp</term><description>svamp/SVAMP.json; id <c>svamp/&lt;ID&gt;</c>; question = Body + ". " + Question.</description></item>
/// <item><term>asdiv-dev, asdiv-test, svamp-dev, svamp-test</term><description>fixed 200 / rest splits of asdiv and svamp by a keyed hash
/// of the id (seed 230112726, see <c>DevTestSplits</c>): dev for checkpoint selection, test for reporting.</description></item>
/// <item><term>bbh, bbh/&lt;task&gt;</term><description>bbh/bbh/*.json; id <c>bbh/&lt;task&gt;/&lt;i&gt;</c>; gold = target as text.</description></item>
/// <item><term>custom</term><description>any JSON array or JSONL file (<see cref="CustomSetOptions"/>).</description></item>
/// <item><term>any other name</term><description>the set file <c>&lt;root&gt;/sets/&lt;name&gt;.jsonl</c> in
/// <see cref="SetFile"/>'s layout (one <c>{"id", "question", "answer", "rationale"}</c> per line), e.g.
/// the miniature world's synthetic sets; <c>mix-train</c> reads <c>sets/mix-train.jsonl</c>.</description></item>
/// </list>
/// </remarks>
public static class ProblemSets
{
    /// <summary>The built-in set names <see cref="Load"/> accepts (bbh tasks as <c>bbh/&lt;task&gt;</c>, and set files in the data root, are accepted too).</summary>
    public static IReadOnlyList<string> Names { get; } = ["gsm8k-train", "gsm8k-dev", "gsm8k-test", "multiarith-dev", "multiarith-test", "asdiv", "asdiv-dev", "asdiv-test", "svamp", "svamp-dev", "svamp-test", "bbh", "custom"];

    private const string BbhTaskPrefix = "bbh/";
    private const string SetsFolder = "sets";

    /// <summary>Loads a set; throws <see cref="SpecialistException"/> (or <see cref="DataFormatException"/>) on bad input.</summary>
    public static IReadOnlyList<Problem> Load(string setName, DataOptions options) => setName switch
    {
        "gsm8k-train" => Gsm8kSet.Load(options.Root, "train"),
        "gsm8k-test" => Gsm8kSet.Load(options.Root, "test"),
        "gsm8k-dev" => Gsm8kSet.LoadDev(options.Root),
        "multiarith-dev" => MultiArithSet.Load(options.Root, dev: true),
        "multiarith-test" => MultiArithSet.Load(options.Root, dev: false),
        "asdiv" => AsdivSet.Load(options.Root),
        "asdiv-dev" or "asdiv-test" => DevTestSplits.Split(AsdivSet.Load(options.Root), dev: setName == "asdiv-dev"),
        "svamp" => SvampSet.Load(options.Root),
        "svamp-dev" or "svamp-test" => DevTestSplits.Split(SvampSet.Load(options.Root), dev: setName == "svamp-dev"),
        "bbh" => BbhData.TaskNames(options.Root).SelectMany(task => BbhData.ReadTask(options.Root, task)).ToList(),
        "custom" => CustomSet.Load(options.Custom ?? throw new SpecialistException("the custom set needs a file and its question and answer fields")),
        _ when setName.StartsWith(BbhTaskPrefix, StringComparison.Ordinal) => BbhData.LoadTask(options.Root, setName[BbhTaskPrefix.Length..]),
        _ => LoadSetFile(setName, options.Root),
    };

    /// <summary>The file a set called <paramref name="setName"/> is kept in under the data root: <c>&lt;root&gt;/sets/&lt;name&gt;.jsonl</c>.</summary>
    public static string SetFilePath(string root, string setName) => Path.Combine(root, SetsFolder, setName + ".jsonl");

    private static IReadOnlyList<Problem> LoadSetFile(string setName, string root)
    {
        var path = SetFilePath(root, setName);
        if (File.Exists(path)) return SetFile.Read(path);
        throw new SpecialistException(
            $"unknown set '{setName}'; the sets are: {string.Join(", ", Names)}, bbh/<task> for one BBH task, or a set file {Path.GetFullPath(path)}");
    }

    /// <summary>
    /// The problems of <paramref name="setName"/> without those of <paramref name="heldOut"/> (by id), e.g. gsm8k-train
    /// without the 200 gsm8k-dev items kept for checkpoint selection; null holds none out.
    /// </summary>
    public static IReadOnlyList<Problem> LoadWithout(string setName, string? heldOut, DataOptions options)
    {
        var problems = Load(setName, options);
        if (heldOut is null) return problems;
        var ids = Load(heldOut, options).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        return [.. problems.Where(p => !ids.Contains(p.Id))];
    }

    /// <summary>
    /// Loads a set keyed by problem id, for looking up gold answers (e.g. when scoring predictions).
    /// Ids are unique within every set (loaders reject duplicates).
    /// </summary>
    public static IReadOnlyDictionary<string, Problem> LoadById(string setName, DataOptions options) =>
        Load(setName, options).ToDictionary(p => p.Id, StringComparer.Ordinal);
}

/// <summary>Finds the data root: <c>--data-root DIR</c>, else <c>$SPECIALIST_DATA</c>, else <c>./data</c>.</summary>
public static class DataRoot
{
    public static string Resolve(string? explicitRoot) =>
        Path.GetFullPath(explicitRoot is { Length: > 0 } ? explicitRoot
            : Environment.GetEnvironmentVariable("SPECIALIST_DATA") is { Length: > 0 } env ? env
            : "data");
}
