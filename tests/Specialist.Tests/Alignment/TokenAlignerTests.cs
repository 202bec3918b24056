using Specialist.Alignment;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

public sealed class TokenAlignerTests
{
    private static readonly ITokenizer T5 = Tokenizers.Load(TestPaths.T5SpieceModel);

    private static TeacherSequence Sequence(string text, params (string Token, double P)[][] positions) =>
        TeacherSequence.Create(text, new TeacherVocabulary(),
            positions.Select(list => (IReadOnlyList<TeacherCandidate>)list.Select(c => new TeacherCandidate(c.Token, c.P)).ToList()).ToList());

    private static List<(string Piece, double P)>[] Targets(AlignedText aligned) =>
        [.. Enumerable.Range(0, aligned.Targets.Count).Select(j =>
            aligned.Targets.Ids(j).ToArray().Zip(aligned.Targets.Probabilities(j).ToArray(), (id, p) => (aligned.TargetPiece(j, id, T5), p)).ToList())];

    private static (int First, int Count)[] PathOf(TokenAligner aligner, TeacherSequence teacher)
    {
        var path = new List<(int, int)>();
        aligner.Align(teacher, T5.Encode(teacher.Text), path);
        return [.. path];
    }

    [Fact]
    public void MapsTheTeachersTopKOntoAByteLevelBpeStudentWithTheSameRule()
    {
        // A Qwen2-like student: its pieces write spaces as ▁, so a teacher's " cat" is looked up as "▁cat".
        var files = new Tokenization.HuggingFaceTokenizerFolder { Merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "c"), ("a", "t"), ("Ġc", "at")] };
        var student = files.Load();
        var teacher = Sequence(" the cat", [(" the", 0.7), (" a", 0.2), (" cat", 0.1)], [(" cat", 0.6), (" dog", 0.4)]);

        var aligned = new TokenAligner(student).Align(teacher);

        Assert.Equal(["▁the", "▁cat"], aligned.StudentPieces);
        Assert.Equal([files.IdOf("Ġthe"), files.IdOf("Ġcat")], aligned.StudentIds);
        // Candidates the student has no piece for (" a", " dog") are dropped, as for T5.
        var targets = Enumerable.Range(0, aligned.Targets.Count)
            .Select(j => aligned.Targets.Ids(j).ToArray().Zip(aligned.Targets.Probabilities(j).ToArray(), (id, p) => (student.GetPiece(id), p)).ToList())
            .ToArray();
        Assert.Equal([("▁the", 0.7), ("▁cat", 0.1)], targets[0]);
        Assert.Equal([("▁cat", 0.6)], targets[1]);
    }

    /// <summary>
    /// The authors' own alignment of a Codex answer (notebooks/dev_align_codex_to_flan_t5_dtw.ipynb in
    /// FranxYao/FlanT5-CoT-Specialization, cells 31, 35 and 37: the FlanT5 pieces, the Codex tokens, and the teacher
    /// tokens their dtw() mapped to each piece).
    /// </summary>
    [Theory]
    [InlineData(AlignmentMode.Paper)]
    [InlineData(AlignmentMode.Fast)]
    public void ReproducesTheAuthorsNotebookAlignment(AlignmentMode mode)
    {
        const string text = "Weng earns $12 for every hour of babysitting.\nShe babysat for 50 minutes.\n50 minutes is less than an hour, so she earned less than $12.\nShe earned $12/60 * 50 = $10.\nThe answer is 10";
        string[] codex = ["W", "eng", " earns", " $", "12", " for", " every", " hour", " of", " babys", "itting", ".", "\n", "She", " babys", "at", " for", " 50", " minutes", ".", "\n", "50", " minutes", " is", " less", " than", " an", " hour", ",", " so", " she", " earned", " less", " than", " $", "12", ".", "\n", "She", " earned", " $", "12", "/", "60", " *", " 50", " =", " $", "10", ".", "\n", "The", " answer", " is", " 10"];
        string[] flan = ["▁We", "ng", "▁earn", "s", "▁$12", "▁for", "▁every", "▁hour", "▁of", "▁baby", "s", "i", "tting", ".", "▁She", "▁baby", "s", "at", "▁for", "▁50", "▁minutes", ".", "▁50", "▁minutes", "▁is", "▁less", "▁than", "▁an", "▁hour", ",", "▁so", "▁she", "▁earned", "▁less", "▁than", "▁$12", ".", "▁She", "▁earned", "▁$12", "/", "60", "▁*", "▁50", "▁=", "▁$10", ".", "▁The", "▁answer", "▁is", "▁10"];
        string[][] mapped =
        [
            ["W"], ["eng"], [" earns"], [" $"], ["12"], [" for"], [" every"], [" hour"], [" of"], [" babys"], [" babys"], [" babys"], ["itting"],
            [".", "\n"], ["She"], [" babys"], ["at"], ["at"], [" for"], [" 50"], [" minutes"], [".", "\n"], ["50"], [" minutes"], [" is"], [" less"],
            [" than"], [" an"], [" hour"], [","], [" so"], [" she"], [" earned"], [" less"], [" than"], [" $", "12"], [".", "\n"], ["She"],
            [" earned"], [" $", "12"], ["/"], ["60"], [" *"], [" 50"], [" =", " $"], ["10"], [".", "\n"], ["The"], [" answer"], [" is"], [" 10"],
        ];
        var teacher = Sequence(text, [.. codex.Select(t => new[] { (t, 0.5) })]);
        var aligner = new TokenAligner(T5, new AlignmentOptions(mode));

        var aligned = aligner.Align(teacher);
        var path = PathOf(aligner, teacher);

        Assert.Equal(flan, aligned.StudentPieces);
        Assert.Equal(mode == AlignmentMode.Fast, aligned.ByOffsets);
        var actual = path.Select(p => codex.Skip(p.First).Take(p.Count).ToArray()).ToArray();
        Assert.Equal(mapped, actual);
    }

    /// <summary>
    /// Worked by hand with the teacher's real top-5 lists from the same notebook (cell 9, question 0): each student
    /// piece is one teacher token, so the target is that token's list when the strings agree (spaces as ▁).
    /// </summary>
    [Theory]
    [InlineData(AlignmentMode.Paper)]
    [InlineData(AlignmentMode.Fast)]
    public void CopiesTheListOfTheOneTeacherTokenWithTheSameString(AlignmentMode mode)
    {
        // Premises about T5's vocabulary that the expected targets rest on.
        foreach (var piece in new[] { "▁Nat", "▁in", "▁we", "▁48", "▁she", "alia", "ilia", "▁sold", "▁is", "▁had", "." , ",", "▁since", "▁because" })
            Assert.True(T5.TryGetId(piece, out _), piece);
        foreach (var piece in new[] { "▁sells", "\n" })
            Assert.False(T5.TryGetId(piece, out _), piece);

        var teacher = Sequence("If Natalia sold 48.",
            [("If", 0.1009), ("If", 0.1009), ("She", 0.0416), ("The", 0.0394), ("Nat", 0.3286), ("In", 0.2685)],
            [(" Nat", 0.6018), (" Nat", 0.6018), (" in", 0.0261), (" we", 0.0125), (" 48", 0.0335), (" she", 0.2588)],
            [("alia", 0.9968), ("ilia", 0.0001), (" sold", 0.0013), ("alia", 0.9968)],
            [(" sold", 0.9573), (" sells", 0.0217), (" sold", 0.9573), (" is", 0.0022), (" had", 0.0024)],
            [(" 48", 0.4455), (" 48", 0.4455)],
            [(".", 0.8685), (",", 0.0226), (" since", 0.0052), (".", 0.8685), ("\n", 0.0827), (" because", 0.0075)]);

        var aligned = new TokenAligner(T5, new AlignmentOptions(mode)).Align(teacher);

        Assert.Equal(["▁If", "▁Nat", "alia", "▁sold", "▁48", "."], aligned.StudentPieces);
        List<(string, double)>[] expected =
        [
            [("▁If", 1.0)], // "If" is not "▁If": the text's first word has no space before it on the teacher side
            [("▁Nat", 0.6018), ("▁in", 0.0261), ("▁we", 0.0125), ("▁48", 0.0335), ("▁she", 0.2588)],
            [("alia", 0.9968), ("ilia", 0.0001), ("▁sold", 0.0013)],
            [("▁sold", 0.9573), ("▁is", 0.0022), ("▁had", 0.0024)],
            [("▁48", 0.4455)],
            [(".", 0.8685), (",", 0.0226), ("▁since", 0.0052), ("▁because", 0.0075)],
        ];
        Assert.Equal(expected, Targets(aligned));
        Assert.Equal([TargetKind.OneHot, TargetKind.Teacher, TargetKind.Teacher, TargetKind.Teacher, TargetKind.Teacher, TargetKind.Teacher],
            Enumerable.Range(0, 6).Select(aligned.Targets.Kind));
    }

    [Fact]
    public void RenormaliseScalesTheKeptMassToOne()
    {
        var teacher = Sequence("If Natalia",
            [("If", 0.1)],
            [(" Nat", 0.6), (" in", 0.1), ("\n", 0.2), (" Nat", 0.6)],
            [("alia", 0.5)]);

        var targets = Targets(new TokenAligner(T5, new AlignmentOptions(Renormalize: true)).Align(teacher));

        Assert.Equal([("▁If", 1.0)], targets[0]);
        Assert.Equal(["▁Nat", "▁in"], targets[1].Select(t => t.Piece));
        Assert.Equal(0.6 / 0.7, targets[1][0].P, 12);
        Assert.Equal(0.1 / 0.7, targets[1][1].P, 12);
        Assert.Equal([("alia", 1.0)], targets[2]);
    }

    /// <summary>"▁$12" is the teacher's " $" and "12": one-hot in the paper, merged with the option.</summary>
    [Fact]
    public void MergeGivesAStudentTokenMadeOfWholeTeacherTokensTheirJointProbability()
    {
        var teacher = Sequence("less than $12.",
            [(" less", 0.8)],
            [(" than", 0.9)],
            [(" $", 0.5), (" 12", 0.2), (" $12", 0.1), (" $", 0.5), (" money", 0.05)],
            [("12", 0.9), ("1", 0.05)],
            [(".", 0.7)]);
        Assert.True(T5.TryGetId("▁$12", out _));
        Assert.True(T5.TryGetId("▁money", out _));
        Assert.True(T5.TryGetId("▁12", out _));

        var paper = new TokenAligner(T5, AlignmentOptions.Paper).Align(teacher);
        var merged = new TokenAligner(T5, new AlignmentOptions(Merge: true)).Align(teacher);

        Assert.Equal(["▁less", "▁than", "▁$12", "."], merged.StudentPieces);
        Assert.Equal(TargetKind.OneHot, paper.Targets.Kind(2));
        Assert.Equal(TargetKind.Merged, merged.Targets.Kind(2));
        var target = Targets(merged)[2];
        // the path " $"·"12" (0.5 · 0.9) plus the teacher's own " $12" (0.1); then the other first tokens
        Assert.Equal(["▁$12", "▁12", "▁money"], target.Select(t => t.Piece));
        Assert.Equal(0.5 * 0.9 + 0.1, target[0].P, 12);
        Assert.Equal(0.2, target[1].P);
        Assert.Equal(0.05, target[2].P);
        Assert.Equal(Targets(paper)[0], Targets(merged)[0]);
    }

    [Theory]
    [InlineData(AlignmentMode.Paper)]
    [InlineData(AlignmentMode.Fast)]
    public void IdenticalTokenizationsGiveTheTeacherListsThemselves(AlignmentMode mode)
    {
        var aligner = new TokenAligner(T5, new AlignmentOptions(mode));
        var random = new Random(11);
        foreach (var question in TeacherCorpus.Gsm8kTexts("gsm8k-train", 40, seed: 3).Where(t => !t.Contains('\n') && !t.Contains("  ")))
        {
            // The teacher is T5 itself: its token strings are the pieces with ▁ as a space (so they spell " " + text).
            var pieces = T5.Encode(question).Tokens.SkipLast(1).Select(t => t.Piece).ToArray();
            var lists = pieces.Select(p => new[] { (p.Replace('\u2581', ' '), 0.5), (pieces[random.Next(pieces.Length)].Replace('\u2581', ' '), 0.25) }).ToArray();
            var teacher = Sequence(string.Concat(lists.Select(l => l[0].Item1)), lists);

            var aligned = aligner.Align(teacher);

            Assert.Equal(pieces, aligned.StudentPieces);
            for (var j = 0; j < pieces.Length; j++)
            {
                var expected = lists[j].Select(c => (c.Item1.Replace(' ', '\u2581'), c.Item2)).DistinctBy(c => c.Item1).ToList();
                Assert.Equal(expected, Targets(aligned)[j]);
            }
        }
    }

    [Fact]
    public void NoTeacherTokensGiveOneHotTargets()
    {
        var aligned = new TokenAligner(T5).Align(Sequence("The answer is 7"));
        Assert.Equal(["▁The", "▁answer", "▁is", "▁7"], aligned.StudentPieces);
        Assert.All(Enumerable.Range(0, 4), j => Assert.Equal(TargetKind.OneHot, aligned.Targets.Kind(j)));
        Assert.Equal(aligned.StudentIds, Enumerable.Range(0, 4).Select(j => aligned.Targets.Ids(j)[0]));
    }

    [Fact]
    public void TokensThatDoNotSpellTheTextFallBackToTheWarping()
    {
        // The teacher's tokens carry a trailing newline the text does not have.
        var teacher = Sequence("She earned 5", [("She", 0.5)], [(" earned", 0.5)], [(" 5", 0.5)], [("\n", 0.5)]);
        var fast = new TokenAligner(T5).Align(teacher);
        var paper = new TokenAligner(T5, AlignmentOptions.Paper).Align(teacher);
        Assert.False(fast.ByOffsets);
        Assert.Equal(Targets(paper), Targets(fast));
        Assert.Equal(TargetKind.Teacher, fast.Targets.Kind(1));
        Assert.Equal(TargetKind.OneHot, fast.Targets.Kind(2)); // " 5" and "\n" both went to "▁5"
    }
}
