namespace Specialist.Alignment;

/// <summary>One candidate of a teacher position: a token string (already normalised, see <see cref="TeacherTokens"/>) and its probability.</summary>
public readonly record struct TeacherCandidate(string Token, double Probability);

/// <summary>
/// One text as the teacher produced it: per position the ordered candidate list, the sampled token first and then the
/// top-k alternatives, exactly as the annotation store keeps them (the sampled token usually reappears among the top-k;
/// the aligner keeps the first occurrence). Token strings are interned in a <see cref="TeacherVocabulary"/>.
/// </summary>
public sealed class TeacherSequence
{
    private readonly int[] _starts;
    private readonly int[] _candidates;
    private readonly double[] _probabilities;

    private TeacherSequence(string text, TeacherVocabulary vocabulary, int[] starts, int[] candidates, double[] probabilities)
    {
        Text = text;
        Vocabulary = vocabulary;
        _starts = starts;
        _candidates = candidates;
        _probabilities = probabilities;
    }

    /// <summary>
    /// Builds a sequence. Each position needs at least its sampled token. <paramref name="text"/> is what the student
    /// tokenizes; when the sampled tokens concatenate to it, <see cref="AlignmentMode.Fast"/> aligns by character offsets.
    /// </summary>
    public static TeacherSequence Create(string text, TeacherVocabulary vocabulary, IReadOnlyList<IReadOnlyList<TeacherCandidate>> positions)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(positions);
        var starts = new int[positions.Count + 1];
        var total = 0;
        for (var i = 0; i < positions.Count; i++)
        {
            if (positions[i].Count == 0) throw new ArgumentException($"position {i} has no candidates (it needs at least the sampled token)", nameof(positions));
            starts[i] = total;
            total += positions[i].Count;
        }
        starts[^1] = total;
        var candidates = new int[total];
        var probabilities = new double[total];
        var k = 0;
        foreach (var list in positions)
        {
            foreach (var candidate in list)
            {
                candidates[k] = vocabulary.Intern(candidate.Token);
                probabilities[k++] = candidate.Probability;
            }
        }
        return new TeacherSequence(text, vocabulary, starts, candidates, probabilities);
    }

    /// <summary>The text the teacher's tokens stand for.</summary>
    public string Text { get; }

    /// <summary>Where the token strings are interned.</summary>
    public TeacherVocabulary Vocabulary { get; }

    /// <summary>The number of teacher positions.</summary>
    public int Count => _starts.Length - 1;

    /// <summary>The sampled token at <paramref name="position"/>.</summary>
    public string Token(int position) => Vocabulary[TokenNumber(position)];

    /// <summary>The candidates at <paramref name="position"/>, sampled token first.</summary>
    public IReadOnlyList<TeacherCandidate> Candidates(int position)
    {
        var list = new TeacherCandidate[_starts[position + 1] - _starts[position]];
        for (var k = 0; k < list.Length; k++)
            list[k] = new TeacherCandidate(Vocabulary[_candidates[_starts[position] + k]], _probabilities[_starts[position] + k]);
        return list;
    }

    internal int TokenNumber(int position) => _candidates[_starts[position]];

    internal ReadOnlySpan<int> CandidateNumbers(int position) => _candidates.AsSpan(_starts[position], _starts[position + 1] - _starts[position]);

    internal ReadOnlySpan<double> CandidateProbabilities(int position) => _probabilities.AsSpan(_starts[position], _starts[position + 1] - _starts[position]);
}
