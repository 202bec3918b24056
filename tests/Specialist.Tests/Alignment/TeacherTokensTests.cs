using System.Text;
using Specialist.Alignment;

namespace Specialist.Tests.Alignment;

public sealed class TeacherTokensTests
{
    private static RawTeacherToken[] Raw(params string[] tokens) => [.. tokens.Select(t => new RawTeacherToken(t))];

    [Fact]
    public void PlainTextThatSpellsTheTextIsKept()
    {
        var normalized = TeacherTokens.Normalize(Raw("She", " earned", " $", "12", "\n"), "She earned $12\n");
        Assert.Equal(TeacherTokenForm.Text, normalized.Form);
        Assert.Equal(["She", " earned", " $", "12", "\n"], normalized.Tokens);
    }

    [Fact]
    public void ByteLevelSymbolsBecomeText()
    {
        // Hugging Face's GPT-2 convert_ids_to_tokens spells a space Ġ (U+0120) and a newline Ċ (U+010A).
        var raw = Raw("She", "Ġearned", "Ġ$", "12", "Ċ", "The");
        var withText = TeacherTokens.Normalize(raw, "She earned $12\nThe");
        var withoutText = TeacherTokens.Normalize(raw, null);
        Assert.Equal(TeacherTokenForm.ByteLevel, withText.Form);
        Assert.Equal(TeacherTokenForm.ByteLevel, withoutText.Form);
        Assert.Equal(["She", " earned", " $", "12", "\n", "The"], withText.Tokens);
        Assert.Equal(withText.Tokens, withoutText.Tokens);
        Assert.Equal(" the", TeacherTokens.NormalizeCandidate(new RawTeacherToken("Ġthe"), TeacherTokenForm.ByteLevel));
    }

    [Fact]
    public void ByteLevelOfEveryByteRoundTrips()
    {
        // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 are U+0100 + n in byte order.
        var symbols = new StringBuilder();
        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols.Append((char)(printable ? b : 0x100 + next++));
        }
        Assert.Equal(0x144, 0x100 + next);
        var text = "Price: 5 € — “quoted”\ttab\n😀";
        var bytes = Encoding.UTF8.GetBytes(text);
        var spelled = new string([.. bytes.Select(b => symbols[b])]);
        // Split into single symbols: every multi-byte character is cut across tokens.
        var normalized = TeacherTokens.Normalize([.. spelled.Select(c => new RawTeacherToken(c.ToString()))], text);
        Assert.Equal(TeacherTokenForm.ByteLevel, normalized.Form);
        Assert.Equal(text, string.Concat(normalized.Tokens));
        Assert.Equal(bytes.Length, normalized.Tokens.Count);
    }

    [Fact]
    public void SplitCharacterGoesToTheTokenThatCompletesIt()
    {
        // ’ is E2 80 99 in UTF-8; the teacher emitted "it", then E2 80, then 99 + "s".
        var fromArrays = TeacherTokens.Normalize(
            [new RawTeacherToken("it"), new RawTeacherToken("\uFFFD", [0xE2, 0x80]), new RawTeacherToken("\uFFFDs", [0x99, (byte)'s'])], "it’s");
        var fromOpenAiStrings = TeacherTokens.Normalize(Raw("it", "bytes:\\xe2\\x80", "bytes:\\x99s"), "it’s");
        var fromByteLevel = TeacherTokens.Normalize(Raw("it", "âĢ", "Ļs"), "it’s");
        Assert.Equal(["it", "", "’s"], fromArrays.Tokens);
        Assert.Equal(["it", "", "’s"], fromOpenAiStrings.Tokens);
        Assert.Equal(["it", "", "’s"], fromByteLevel.Tokens);
    }

    [Fact]
    public void PartialCandidateMatchesNothing()
    {
        var partial = TeacherTokens.NormalizeCandidate(new RawTeacherToken("âĢ"), TeacherTokenForm.ByteLevel);
        Assert.Contains('\uFFFD', partial);
        Assert.Equal("’", TeacherTokens.NormalizeCandidate(new RawTeacherToken("x", [0xE2, 0x80, 0x99]), TeacherTokenForm.Text));
    }

    [Fact]
    public void PlainTextWithLettersFromTheByteAlphabetStaysText()
    {
        // "é" (U+00E9) is a byte-level symbol too, but these tokens spell the text as they are.
        var normalized = TeacherTokens.Normalize(Raw("café", " olé"), "café olé");
        Assert.Equal(TeacherTokenForm.Text, normalized.Form);
        Assert.Equal(["café", " olé"], normalized.Tokens);
    }

    [Fact]
    public void SequenceGivesTheSampledTokenItsNormalisedStringEverywhere()
    {
        var vocabulary = new TeacherVocabulary();
        var sequence = TeacherTokens.ToSequence("it’s", vocabulary,
        [
            [(new RawTeacherToken("it"), 0.9), (new RawTeacherToken("Ġit"), 0.05)],
            [(new RawTeacherToken("âĢ"), 0.8), (new RawTeacherToken("âĢ"), 0.8), (new RawTeacherToken("Ġ'"), 0.1)],
            [(new RawTeacherToken("Ļs"), 0.7)],
        ]);
        Assert.Equal(["it", "", "’s"], Enumerable.Range(0, sequence.Count).Select(sequence.Token));
        Assert.Equal([new TeacherCandidate("", 0.8), new TeacherCandidate("", 0.8), new TeacherCandidate(" '", 0.1)], sequence.Candidates(1));
        Assert.Equal(" it", sequence.Candidates(0)[1].Token);
    }
}
