namespace Specialist.Alignment;

/// <summary>How the aligner finds which teacher tokens each student token stands for.</summary>
public enum AlignmentMode
{
    /// <summary>
    /// The authors' rule, bit for bit (METHOD.md §3): dynamic time warping over the two token-string sequences with
    /// Levenshtein cost, backtraced preferring the diagonal. O(n·m) per text.
    /// </summary>
    Paper,
    /// <summary>
    /// The same rule computed from character offsets when the teacher's tokens concatenate to the text: a teacher and
    /// a student token that overlap in the text and have the same non-blank characters (cost 0) match, a match inside a
    /// run of three is an anchor, and the warping runs only between consecutive anchors, so the work is O(n + m) plus
    /// small windows. The result equals <see cref="Paper"/>'s whenever the paper's optimal path passes through every
    /// anchor and its backtrace meets no tie at a window's edge; where it differs, its path is in practice another
    /// optimal path of equal total cost (on all GSM8K training texts with gpt2, cl100k_base and o200k_base teachers:
    /// 4 of 2.95 million student positions differ, all by such ties). When the tokens do not concatenate to the text,
    /// or two anchors are more than 48 tokens apart, it runs the whole-text warping.
    /// </summary>
    Fast,
}

/// <summary>
/// Alignment settings. The paper keeps the copied top-k probabilities as they are and gives every student token that
/// is not one teacher token a one-hot target; the two options change that and are measured against the paper's rule
/// by <c>specialist bench align</c>.
/// </summary>
/// <param name="Mode">Paper or fast (default).</param>
/// <param name="Renormalize">Scale each soft target's kept probabilities to sum to 1 (the paper does not).</param>
/// <param name="Merge">
/// Give a soft target to a student token that is exactly several whole teacher tokens (e.g. <c>▁$12</c> = <c>" $"</c> +
/// <c>"12"</c>): the student token with the product of the teacher's sampled-token probabilities, plus the first
/// teacher position's other candidates that are student pieces (an alternative equal to the student token adds its
/// probability to it). The paper gives such tokens a one-hot target.
/// </param>
public sealed record AlignmentOptions(AlignmentMode Mode = AlignmentMode.Fast, bool Renormalize = false, bool Merge = false)
{
    /// <summary>The authors' rule exactly.</summary>
    public static AlignmentOptions Paper { get; } = new(AlignmentMode.Paper);

    /// <summary>Parses a mode name: <c>paper</c> or <c>fast</c>.</summary>
    public static AlignmentMode ParseMode(string name) => name switch
    {
        "paper" => AlignmentMode.Paper,
        "fast" => AlignmentMode.Fast,
        _ => throw new SpecialistException($"unknown alignment mode '{name}' (use paper or fast)"),
    };

    /// <summary>The mode's name as <see cref="ParseMode"/> reads it.</summary>
    public static string ModeName(AlignmentMode mode) => mode == AlignmentMode.Paper ? "paper" : "fast";
}
