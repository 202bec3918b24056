using Specialist.Alignment;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

/// <summary>Properties over real GSM8K texts with real teacher (tiktoken) and student (T5) tokenizations.</summary>
public sealed class AlignmentPropertyTests
{
    private static readonly ITokenizer T5 = Tokenizers.Load(TestPaths.T5SpieceModel);

    public static TheoryData<string> Teachers => new() { "gpt2", "cl100k_base" };

    private static List<TeacherCorpus.Annotated> Corpus(string teacher, int count, int seed) =>
        TeacherCorpus.Annotate(TeacherCorpus.Gsm8kTexts("gsm8k-train", count, seed), Tokenizers.Load(teacher), seed);

    private static List<(string, double)>[] Targets(AlignedText aligned) =>
        [.. Enumerable.Range(0, aligned.Targets.Count).Select(j =>
            aligned.Targets.Ids(j).ToArray().Zip(aligned.Targets.Probabilities(j).ToArray(), (id, p) => (aligned.TargetPiece(j, id, T5), p)).ToList())];

    [Theory]
    [MemberData(nameof(Teachers))]
    public void PaperModeEqualsTheAuthorsRule(string teacherName)
    {
        var aligner = new TokenAligner(T5, AlignmentOptions.Paper);
        var vocabulary = new TeacherVocabulary();
        foreach (var sample in Corpus(teacherName, 60, seed: 21))
        {
            var path = new List<(int First, int Count)>();
            var aligned = aligner.Align(sample.ToSequence(vocabulary), T5.Encode(sample.Text), path);
            var reference = AuthorsRule.Align(sample.Tokens, sample.TopK.Select(l => (IReadOnlyList<(string, double)>)l).ToList(),
                aligned.StudentPieces, piece => T5.TryGetId(piece, out _));

            Assert.Equal(reference.Mapping.Select(l => (l[0], l.Count)), path);
            Assert.Equal(reference.Targets, Targets(aligned));
        }
    }

    /// <summary>
    /// Fast mode gives the paper's targets; where a text's differ, fast's warping path is another optimal one (the same
    /// total cost): the two differ only in which of equally good paths a tie picks.
    /// </summary>
    [Theory]
    [MemberData(nameof(Teachers))]
    public void FastEqualsPaperUnlessATieChoosesAnotherOptimalPath(string teacherName)
    {
        var fast = new TokenAligner(T5);
        var paper = new TokenAligner(T5, AlignmentOptions.Paper);
        var vocabulary = new TeacherVocabulary();
        var offsets = 0;
        foreach (var sample in Corpus(teacherName, 400, seed: 22))
        {
            var sequence = sample.ToSequence(vocabulary);
            var student = T5.Encode(sample.Text);
            var fastPath = new List<(int First, int Count)>();
            var byFast = fast.Align(sequence, student, fastPath);
            var byPaper = paper.Align(sequence, student);

            offsets += byFast.ByOffsets ? 1 : 0;
            if (Targets(byFast).SequenceEqual(Targets(byPaper), TargetComparer)) continue;
            // Without offsets fast mode runs the paper's own warping, so only an offset alignment may differ.
            Assert.True(byFast.ByOffsets, sample.Text);
            var reference = AuthorsRule.Align(sample.Tokens, sample.TopK.Select(l => (IReadOnlyList<(string, double)>)l).ToList(),
                byPaper.StudentPieces, piece => T5.TryGetId(piece, out _));
            var fastCost = fastPath.Select((p, j) => Enumerable.Range(p.First, p.Count).Sum(i => AuthorsRule.Cost(sample.Tokens[i], byPaper.StudentPieces[j]))).Sum();
            Assert.True(reference.Tie, sample.Text);
            Assert.Equal(reference.OptimalCost, fastCost);
        }
        Assert.True(offsets > 0, "no text was aligned by offsets");
    }

    [Theory]
    [InlineData(AlignmentMode.Paper, "gpt2")]
    [InlineData(AlignmentMode.Fast, "gpt2")]
    [InlineData(AlignmentMode.Fast, "cl100k_base")]
    public void PathIsMonotoneAndMapsEveryToken(AlignmentMode mode, string teacherName)
    {
        var aligner = new TokenAligner(T5, new AlignmentOptions(mode));
        var vocabulary = new TeacherVocabulary();
        foreach (var sample in Corpus(teacherName, 150, seed: 23))
        {
            var path = new List<(int First, int Count)>();
            aligner.Align(sample.ToSequence(vocabulary), T5.Encode(sample.Text), path);

            Assert.Equal(0, path[0].First);
            for (var j = 0; j < path.Count; j++)
            {
                Assert.True(path[j].Count >= 1, $"student token {j} is unmapped");
                if (j == 0) continue;
                var previousLast = path[j - 1].First + path[j - 1].Count - 1;
                // monotone, and no teacher token skipped: the column starts on the previous column's last row or the next
                Assert.InRange(path[j].First, previousLast, previousLast + 1);
            }
            Assert.Equal(sample.Tokens.Length - 1, path[^1].First + path[^1].Count - 1);
        }
    }

    [Fact]
    public void AligningInParallelGivesTheSameAsOneByOne()
    {
        var aligner = new TokenAligner(T5);
        var vocabulary = new TeacherVocabulary();
        var sequences = Corpus("cl100k_base", 200, seed: 24).Select(s => s.ToSequence(vocabulary)).ToList();
        var together = aligner.AlignAll(sequences);
        for (var i = 0; i < sequences.Count; i++)
            Assert.Equal(Targets(aligner.Align(sequences[i])), Targets(together[i]), TargetComparer);
    }

    private static readonly IEqualityComparer<List<(string, double)>> TargetComparer =
        EqualityComparer<List<(string, double)>>.Create((a, b) => a!.SequenceEqual(b!), l => l.Count);
}
