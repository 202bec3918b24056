using Specialist.Prompts;

namespace Specialist.Alignment;

/// <summary>The distillation set's names of the four training formats and its default micro-batch sizes.</summary>
public static class DistillFormats
{
    /// <summary>The formats in the order a set stores and draws them.</summary>
    public static IReadOnlyList<TrainingFormat> All { get; } =
        [TrainingFormat.InContextCot, TrainingFormat.InContextAnswerOnly, TrainingFormat.ZeroShotCot, TrainingFormat.ZeroShotAnswerOnly];

    /// <summary>The paper's 250M micro-batch sizes (METHOD.md §2): IC-CoT 25, IC-AO 35, ZS-CoT 40, ZS-AO 60.</summary>
    public static IReadOnlyDictionary<TrainingFormat, int> PaperBatchSizes { get; } = new Dictionary<TrainingFormat, int>
    {
        [TrainingFormat.InContextCot] = 25,
        [TrainingFormat.InContextAnswerOnly] = 35,
        [TrainingFormat.ZeroShotCot] = 40,
        [TrainingFormat.ZeroShotAnswerOnly] = 60,
    };

    /// <summary><c>ic-cot</c>, <c>ic-ao</c>, <c>zs-cot</c> or <c>zs-ao</c>.</summary>
    public static string Name(TrainingFormat format) => format switch
    {
        TrainingFormat.InContextCot => "ic-cot",
        TrainingFormat.InContextAnswerOnly => "ic-ao",
        TrainingFormat.ZeroShotCot => "zs-cot",
        TrainingFormat.ZeroShotAnswerOnly => "zs-ao",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Whether <paramref name="format"/> is a zero-shot one (no demonstrations in the encoder input).</summary>
    public static bool IsZeroShot(TrainingFormat format) => format is TrainingFormat.ZeroShotCot or TrainingFormat.ZeroShotAnswerOnly;

    /// <summary>Parses a format name (see <see cref="Name"/>).</summary>
    public static TrainingFormat Parse(string name)
    {
        foreach (var format in All)
            if (Name(format) == name.Trim()) return format;
        throw new SpecialistException($"unknown format '{name}' (use {string.Join(", ", All.Select(Name))})");
    }

    /// <summary>Parses a comma-separated list of format names, in the order <see cref="All"/> gives them, each once.</summary>
    public static IReadOnlyList<TrainingFormat> ParseList(string names)
    {
        var parsed = names.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToHashSet();
        if (parsed.Count == 0) throw new SpecialistException("no formats given");
        return [.. All.Where(parsed.Contains)];
    }

    /// <summary>Parses <c>ic-cot=25,zs-ao=60</c>: sizes for the named formats, the paper's for the others.</summary>
    public static IReadOnlyDictionary<TrainingFormat, int> ParseBatchSizes(string text)
    {
        var sizes = new Dictionary<TrainingFormat, int>(PaperBatchSizes);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq < 0 || !int.TryParse(part[(eq + 1)..], out var size) || size < 1)
                throw new SpecialistException($"batch size '{part}' is not FORMAT=N with N ≥ 1 (e.g. ic-cot=25,zs-ao=60)");
            sizes[Parse(part[..eq])] = size;
        }
        return sizes;
    }
}
