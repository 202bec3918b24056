using Specialist.Tokenization;

namespace Specialist.Alignment;

/// <summary>Where a position's target came from.</summary>
public enum TargetKind : byte
{
    /// <summary>Probability 1 on the student token itself.</summary>
    OneHot,
    /// <summary>The teacher position's candidate list, translated to student ids.</summary>
    Teacher,
    /// <summary>Several whole teacher tokens merged into one student token (<see cref="AlignmentOptions.Merge"/>).</summary>
    Merged,
}

/// <summary>
/// Per student position a sparse distribution over student ids: a short list of (id, probability) in the order the
/// rule produced it. Stored compactly: all lists back to back, with each position's start.
/// </summary>
public sealed class SparseTargets
{
    private readonly int[] _starts;
    private readonly int[] _ids;
    private readonly double[] _probabilities;
    private readonly TargetKind[] _kinds;

    internal SparseTargets(int[] starts, int[] ids, double[] probabilities, TargetKind[] kinds)
    {
        _starts = starts;
        _ids = ids;
        _probabilities = probabilities;
        _kinds = kinds;
    }

    /// <summary>One-hot targets on <paramref name="ids"/> (e.g. a gold rationale: no teacher distribution).</summary>
    public static SparseTargets OneHot(ReadOnlySpan<int> ids)
    {
        var starts = new int[ids.Length + 1];
        for (var i = 0; i <= ids.Length; i++) starts[i] = i;
        var probabilities = new double[ids.Length];
        Array.Fill(probabilities, 1.0);
        return new SparseTargets(starts, ids.ToArray(), probabilities, new TargetKind[ids.Length]);
    }

    /// <summary>These targets followed by a one-hot position on each of <paramref name="ids"/> (the ids that end a target: an end of sequence or of answer).</summary>
    internal SparseTargets WithOneHotEnd(IReadOnlyList<int> ids)
    {
        var starts = new int[_starts.Length + ids.Count];
        _starts.CopyTo(starts, 0);
        for (var k = 1; k <= ids.Count; k++) starts[_starts.Length - 1 + k] = _ids.Length + k;
        return new SparseTargets(starts, [.. _ids, .. ids], [.. _probabilities, .. ids.Select(_ => 1.0)], [.. _kinds, .. ids.Select(_ => TargetKind.OneHot)]);
    }

    /// <summary>The number of positions.</summary>
    public int Count => _kinds.Length;

    /// <summary>The student ids of <paramref name="position"/>'s target, in order.</summary>
    public ReadOnlySpan<int> Ids(int position) => _ids.AsSpan(_starts[position], _starts[position + 1] - _starts[position]);

    /// <summary>The probabilities matching <see cref="Ids"/>.</summary>
    public ReadOnlySpan<double> Probabilities(int position) => _probabilities.AsSpan(_starts[position], _starts[position + 1] - _starts[position]);

    /// <summary>Where <paramref name="position"/>'s target came from.</summary>
    public TargetKind Kind(int position) => _kinds[position];

    /// <summary>How many positions have a target other than one-hot.</summary>
    public int SoftCount
    {
        get
        {
            var count = 0;
            foreach (var kind in _kinds) count += kind == TargetKind.OneHot ? 0 : 1;
            return count;
        }
    }

    /// <summary>Whether position <paramref name="position"/> has the same target (ids, order, probabilities) in both.</summary>
    public bool SameAt(int position, SparseTargets other, int otherPosition) =>
        Ids(position).SequenceEqual(other.Ids(otherPosition)) && Probabilities(position).SequenceEqual(other.Probabilities(otherPosition));
}

/// <summary>The result of aligning one text: the student's tokens (without the final <c>&lt;/s&gt;</c>) and a target per token.</summary>
/// <param name="StudentIds">The student token ids.</param>
/// <param name="StudentPieces">Their pieces (<see cref="Token.Piece"/>: an unknown token's is the text it stands for).</param>
/// <param name="Targets">One target per student token.</param>
/// <param name="ByOffsets">Whether character offsets decided the alignment (fast mode, tokens concatenating to the text); false when the whole-text warping did.</param>
public sealed record AlignedText(int[] StudentIds, string[] StudentPieces, SparseTargets Targets, bool ByOffsets)
{
    /// <summary>
    /// The string of target id <paramref name="id"/> at <paramref name="position"/>: the student token's own piece when
    /// it is that token's id (so a one-hot target on an unknown token reads <c>×</c>, as the authors' rule writes it),
    /// else <paramref name="student"/>'s vocabulary piece.
    /// </summary>
    public string TargetPiece(int position, int id, ITokenizer student) => id == StudentIds[position] ? StudentPieces[position] : student.GetPiece(id);
}
