using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Tests.Tokenization;
using Specialist.Tokenization;
using Xunit.Abstractions;

namespace Specialist.Tests.Alignment;

public sealed class AlignCommandTests(ITestOutputHelper log)
{
    private static readonly ITokenizer T5 = Tokenizers.Load(TestPaths.T5SpieceModel);

    private static string WriteInput(IEnumerable<TeacherCorpus.Annotated> samples, Func<string, string>? spell = null)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "input.jsonl");
        spell ??= s => s;
        File.WriteAllLines(path, samples.Select(s => new JsonObject
        {
            ["text"] = s.Text,
            ["teacher_tokens"] = new JsonArray([.. s.Tokens.Select(t => (JsonNode)spell(t))]),
            ["teacher_topk"] = new JsonArray([.. s.TopK.Select(list => (JsonNode)new JsonArray([.. list.Select(c => (JsonNode)new JsonArray(spell(c.Token), c.P))]))]),
        }.ToJsonString()));
        return path;
    }

    private static List<(string Piece, double P)>[] ParseTargets(JsonElement line) =>
        [.. line.GetProperty("targets").EnumerateArray().Select(position =>
            position.EnumerateArray().Select(pair => (pair[0].GetString()!, pair[1].GetDouble())).ToList())];

    /// <summary>
    /// The acceptance check: GSM8K test questions and rationales no other test uses, tokenized by two real teacher
    /// tokenizers, aligned by the CLI in paper mode, compared with the plain transcription of the authors' rule.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    public void PaperModeEqualsTheAuthorsRuleOnUnseenGsm8k(string teacherName)
    {
        var samples = TeacherCorpus.Annotate(TeacherCorpus.Gsm8kTexts("gsm8k-test", 60, seed: 505), Tokenizers.Load(teacherName), seed: 506);

        var result = CliRunner.Run("align", "--input", WriteInput(samples), "--student-tokenizer", TestPaths.T5SpieceModel, "--mode", "paper", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(samples.Count, lines.Length);
        var soft = 0;
        foreach (var (sample, line) in samples.Zip(lines))
        {
            var output = JsonDocument.Parse(line).RootElement;
            var pieces = output.GetProperty("student_tokens").EnumerateArray().Select(p => p.GetString()!).ToList();
            Assert.Equal(T5.Encode(sample.Text).Tokens.SkipLast(1).Select(t => t.Piece), pieces);
            var reference = AuthorsRule.Align(sample.Tokens, [.. sample.TopK.Select(l => (IReadOnlyList<(string, double)>)l)], pieces, p => T5.TryGetId(p, out _));
            var actual = ParseTargets(output);
            Assert.Equal(reference.Targets.Length, actual.Length);
            for (var j = 0; j < actual.Length; j++) Assert.Equal(reference.Targets[j], actual[j]);
            soft += reference.Targets.Count(t => t.Count > 1);
        }
        Assert.True(soft > 0);
    }

    /// <summary>
    /// Teacher outputs with × and −, which T5's SentencePiece has no piece for (GSM8K rationales with their '*' and
    /// " - " written so). The authors aligned Hugging Face's tokenize() strings, which keep an unknown token's text
    /// (spm_encode's pieces, computed here independently of our tokenizer): paper mode must name and compare "×", not
    /// "<unk>", while the token's id stays the unknown id. Comparing "<unk>" instead moves some alignments.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    public void PaperModeKeepsTheTextOfUnknownPieces(string teacherName)
    {
        var texts = TeacherCorpus.Gsm8kTexts("gsm8k-train", 400, seed: 507)
            .Select(t => t.Replace("*", "\u00d7", StringComparison.Ordinal).Replace(" - ", " \u2212 ", StringComparison.Ordinal))
            .Where(t => t.Contains('\u00d7') || t.Contains('\u2212')).Take(80).ToList();
        Assert.Contains(texts, t => t.Contains('\u00d7'));
        Assert.Contains(texts, t => t.Contains('\u2212'));
        var samples = TeacherCorpus.Annotate(texts, Tokenizers.Load(teacherName), seed: 508);
        var hfPieces = SentencePieceReference.EncodePieces([.. texts.Select(SentencePieceReference.AsOneLine)]);

        var result = CliRunner.Run("align", "--input", WriteInput(samples), "--student-tokenizer", TestPaths.T5SpieceModel, "--mode", "paper", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(samples.Count, lines.Length);
        var aligner = new TokenAligner(T5, AlignmentOptions.Paper);
        var vocabulary = new TeacherVocabulary();
        int unknown = 0, moved = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            var output = JsonDocument.Parse(lines[i]).RootElement;
            var pieces = output.GetProperty("student_tokens").EnumerateArray().Select(p => p.GetString()!).ToList();
            Assert.Equal(hfPieces[i], pieces);
            var ids = aligner.Align(samples[i].ToSequence(vocabulary)).StudentIds;
            var unknownAt = Enumerable.Range(0, pieces.Count).Where(j => !T5.TryGetId(pieces[j], out _)).ToList();
            Assert.All(unknownAt, j => Assert.Equal(T5.UnkId, ids[j]));
            unknown += unknownAt.Count;

            var topk = samples[i].TopK.Select(l => (IReadOnlyList<(string, double)>)l).ToList();
            var reference = AuthorsRule.Align(samples[i].Tokens, topk, pieces, p => T5.TryGetId(p, out _));
            var actual = ParseTargets(output);
            Assert.Equal(reference.Targets.Length, actual.Length);
            for (var j = 0; j < actual.Length; j++) Assert.Equal(reference.Targets[j], actual[j]);

            var withUnk = AuthorsRule.Align(samples[i].Tokens, topk, [.. pieces.Select((p, j) => unknownAt.Contains(j) ? "<unk>" : p)], p => T5.TryGetId(p, out _));
            if (!withUnk.Mapping.Select(l => (l[0], l.Count)).SequenceEqual(reference.Mapping.Select(l => (l[0], l.Count)))) moved++;
        }
        log.WriteLine($"{teacherName}: {samples.Count} texts, {unknown} unknown tokens, {moved} alignments moved by '<unk>'");
        Assert.True(unknown >= samples.Count, $"only {unknown} unknown tokens in {samples.Count} texts");
        Assert.True(moved > 0, "no alignment depends on the unknown tokens' text: the test cannot tell the rules apart");
    }

    [Fact]
    public void ByteLevelSpellingAlignsLikePlainText()
    {
        var samples = TeacherCorpus.Annotate(TeacherCorpus.Gsm8kTexts("gsm8k-test", 6, seed: 507), Tokenizers.Load("gpt2"), seed: 508);
        // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 are U+0100 + n in byte order.
        var symbols = new char[256];
        var next = 0;
        for (var b = 0; b < 256; b++)
            symbols[b] = (char)(b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF ? b : 0x100 + next++);
        string ByteLevel(string s) => new([.. System.Text.Encoding.UTF8.GetBytes(s).Select(b => symbols[b])]);

        var plain = CliRunner.Run("align", "--input", WriteInput(samples), "--student-tokenizer", TestPaths.T5SpieceModel, "--json");
        var spelled = CliRunner.Run("align", "--input", WriteInput(samples, ByteLevel), "--student-tokenizer", TestPaths.T5SpieceModel, "--json");

        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.True(spelled.ExitCode == 0, spelled.ToString());
        Assert.Equal(plain.Stdout, spelled.Stdout);
    }

    [Fact]
    public void OutFileGetsTheLinesAndStdoutTheSummary()
    {
        var samples = TeacherCorpus.Annotate(TeacherCorpus.Gsm8kTexts("gsm8k-test", 10, seed: 509), Tokenizers.Load("cl100k_base"), seed: 510);
        var output = Path.Combine(TestPaths.NewTempDir(), "aligned.jsonl");

        var result = CliRunner.Run("align", "--input", WriteInput(samples), "--student-tokenizer", TestPaths.T5SpieceModel, "--out", output, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var summary = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("fast", summary.GetProperty("mode").GetString());
        Assert.Equal(10, summary.GetProperty("samples").GetInt32());
        Assert.Equal(10, summary.GetProperty("by_offsets").GetInt32());
        var lines = File.ReadAllLines(output);
        Assert.Equal(10, lines.Length);
        var tokens = lines.Sum(l => JsonDocument.Parse(l).RootElement.GetProperty("student_tokens").GetArrayLength());
        Assert.Equal(tokens, summary.GetProperty("student_tokens").GetInt64());
        var soft = lines.Sum(l => ParseTargets(JsonDocument.Parse(l).RootElement).Count(t => t.Count > 1 || t[0].P != 1.0));
        Assert.InRange(summary.GetProperty("soft_targets").GetInt64(), soft, tokens);
    }

    [Fact]
    public void StoreSamplesAreAlignedOnePerKeptSample()
    {
        var problems = Specialist.Data.ProblemSets.Load("gsm8k-train", new Specialist.Data.DataOptions(TestPaths.DataRoot)).Take(5).ToList();
        var store = StoreKit.Create(problems, q => 3);

        var result = CliRunner.Run("align", "--store", store.Path, "--student-tokenizer", TestPaths.T5SpieceModel, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(store.Kept.Values.Sum(), lines.Count);
        Assert.Equal(problems.SelectMany(p => Enumerable.Range(0, 3).Where(s => s % 3 != 2).Select(s => $"{p.Id}#{s}")),
            lines.Select(l => $"{l.GetProperty("question_id").GetString()}#{l.GetProperty("sample_index").GetInt32()}"));
        foreach (var line in lines)
        {
            // The chain of thought is aligned without the blank lines around it, which the teacher emitted as tokens.
            var pieces = line.GetProperty("student_tokens").EnumerateArray().Select(p => p.GetString()!).ToList();
            var problem = problems.Single(p => p.Id == line.GetProperty("question_id").GetString());
            Assert.EndsWith(" The answer is " + problem.Answer.Text, string.Concat(pieces).Replace('\u2581', ' '));
            Assert.NotEqual("\u2581", pieces[0]);
            Assert.Contains(ParseTargets(line), t => t.Count > 1);
        }
    }

    [Fact]
    public void ABadLineIsNamedByFileLineAndField()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "bad.jsonl");
        File.WriteAllLines(path,
        [
            """{"text": "She earned 5", "teacher_tokens": ["She", " earned", " 5"], "teacher_topk": [[["She", 0.5]], [[" earned", 0.5]], [[" 5", 0.5]]]}""",
            "",
            """{"text": "She earned 5", "teacher_tokens": ["She", " earned", " 5"], "teacher_topk": [[["She", 0.5]], [[" made", 0.5]], [[" 5", 0.5]]]}""",
        ]);

        var result = CliRunner.Run("align", "--input", path, "--student-tokenizer", TestPaths.T5SpieceModel, "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(path, result.Stderr);
        Assert.Contains("line 3", result.Stderr);
        Assert.Contains("teacher_topk[1][0]", result.Stderr);
        Assert.Equal(2, CliRunner.Run("align", "--input", path, "--store", path, "--student-tokenizer", TestPaths.T5SpieceModel).ExitCode);
        Assert.Equal(2, CliRunner.Run("align", "--input", path, "--student-tokenizer", TestPaths.T5SpieceModel, "--mode", "exact").ExitCode);
    }
}
