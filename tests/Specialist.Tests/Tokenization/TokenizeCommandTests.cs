using System.Text.Json;

namespace Specialist.Tests.Tokenization;

public sealed class TokenizeCommandTests
{
    [Fact]
    public void JsonlInputGivesSpmEncodeIdsPlusEosLineByLine()
    {
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 40, gsmAnswers: 10, svampQuestions: 20)
            .Concat(SentencePieceUnigramTokenizerTests.EdgeCases).ToList();
        var input = Path.Combine(TestPaths.NewTempDir(), "texts.jsonl");
        File.WriteAllLines(input, texts.Select(t => JsonSerializer.Serialize(new { text = t })));
        var oneLine = texts.Select(SentencePieceReference.AsOneLine).ToList();
        var expectedIds = SentencePieceReference.EncodeIds(oneLine);
        var expectedPieces = SentencePieceReference.EncodePieces(oneLine);

        var result = CliRunner.Run("tokenize", "--tokenizer", TestPaths.T5SpieceModel, "--input", input, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(texts.Count, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var ids = line.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var pieces = line.RootElement.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()).ToArray();
            Assert.Equal([.. expectedIds[i], 1], ids);
            Assert.Equal(ids.Length, pieces.Length);
            for (var k = 0; k < expectedPieces[i].Length; k++)
                Assert.Equal(expectedPieces[i][k], pieces[k]);
            Assert.Equal("</s>", pieces[^1]);
        }
    }

    [Fact]
    public void TextWithATiktokenEncoding()
    {
        var result = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--text", "hello world", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("{\"ids\":[31373,995],\"pieces\":[\"hello\",\" world\"]}", result.Stdout.Trim());
    }

    [Fact]
    public void WithoutJsonPrintsATable()
    {
        var result = CliRunner.Run("tokenize", "--tokenizer", TestPaths.T5SpieceModel, "--text", "translate English to German: Hello world");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("8 tokens", result.Stdout);
        foreach (var cell in new[] { "13959", "\"▁translate\"", "\"translate\"", "\" Hello\"", "\"</s>\"" }) Assert.Contains(cell, result.Stdout);
    }

    [Fact]
    public void MalformedLineNamesFileLineAndField()
    {
        var input = Path.Combine(TestPaths.NewTempDir(), "texts.jsonl");
        File.WriteAllLines(input, ["{\"text\": \"fine\"}", "{\"txt\": \"typo\"}"]);
        var result = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", input, "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(input, result.Stderr);
        Assert.Contains("line 2", result.Stderr);
        Assert.Contains("'text'", result.Stderr);

        File.WriteAllLines(input, ["{\"text\": 12}"]);
        result = CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--input", input);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("line 1", result.Stderr);
        Assert.Contains("not a string", result.Stderr);
    }

    [Fact]
    public void MissingTokenizerFileIsNamed()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "spiece.model");
        var result = CliRunner.Run("tokenize", "--tokenizer", missing, "--text", "x");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(missing, result.Stderr);
    }

    [Fact]
    public void NeedsExactlyOneOfTextAndInput()
    {
        Assert.Equal(2, CliRunner.Run("tokenize", "--tokenizer", "gpt2").ExitCode);
        Assert.Equal(2, CliRunner.Run("tokenize", "--tokenizer", "gpt2", "--text", "a", "--input", "b.jsonl").ExitCode);
    }
}
