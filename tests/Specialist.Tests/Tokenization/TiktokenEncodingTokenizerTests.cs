using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class TiktokenEncodingTokenizerTests
{
    [Theory]
    [InlineData("gpt2", "hello world", new[] { 31373, 995 })]
    [InlineData("cl100k_base", "hello world", new[] { 15339, 1917 })]
    [InlineData("cl100k_base", "tiktoken is great!", new[] { 83, 1609, 5963, 374, 2294, 0 })]
    [InlineData("o200k_base", "hello world", new[] { 24912, 2375 })]
    public void KnownEncodings(string name, string text, int[] expected)
    {
        var tokenizer = Tokenizers.Load(name);
        var encoded = tokenizer.Encode(text);
        Assert.Equal(expected, encoded.Ids);
        Assert.Equal(text, string.Concat(encoded.Tokens.Select(t => t.Piece)));
        Assert.Equal(text, tokenizer.Decode(encoded.Ids));
        Assert.False(tokenizer.AppendsEos);
    }

    [Theory]
    [InlineData("gpt2", 50_257, 50_256)]
    [InlineData("cl100k_base", 100_277, 100_257)]
    [InlineData("o200k_base", 200_019, 199_999)]
    public void VocabularyAndSpecials(string name, int vocabularySize, int endOfText)
    {
        var tokenizer = Tokenizers.Load(name);
        Assert.Equal(name, tokenizer.Name);
        Assert.Equal(vocabularySize, tokenizer.VocabularySize);
        Assert.Equal((int?)endOfText, tokenizer.EosId);
        Assert.Null(tokenizer.PadId);
        Assert.Null(tokenizer.UnkId);
        Assert.True(tokenizer.TryGetId("<|endoftext|>", out var id));
        Assert.Equal(endOfText, id);
        Assert.Equal("<|endoftext|>", tokenizer.GetPiece(endOfText));
        var world = tokenizer.Encode(" world").Ids.Single();
        Assert.Equal(" world", tokenizer.GetPiece(world));
        Assert.True(tokenizer.TryGetId(" world", out var looked));
        Assert.Equal(world, looked);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.GetPiece(vocabularySize));
        // Special tokens are skipped when decoding.
        Assert.Equal("hello world", tokenizer.Decode([endOfText, .. tokenizer.Encode("hello world").Ids, endOfText]));
    }

    [Fact]
    public void UnassignedIdsBetweenSpecialsAreNotTokens()
    {
        var cl100k = Tokenizers.Load("cl100k_base");
        Assert.Throws<ArgumentOutOfRangeException>(() => cl100k.GetPiece(100_261));
        Assert.Throws<ArgumentOutOfRangeException>(() => cl100k.Decode([100_261]));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void SpansSplitCharactersBetweenTokensWithoutOverlap(string name)
    {
        var tokenizer = Tokenizers.Load(name);
        const string text = "Natalia sold 48 clips — 日本語のテキスト 😀 👍🏽 café\n\n  x";
        var encoded = tokenizer.Encode(text);
        var tokens = encoded.Tokens;
        Assert.Equal(text, tokenizer.Decode(encoded.Ids));
        Assert.Equal(0, tokens[0].Start);
        Assert.Equal(text.Length, tokens[^1].End);
        for (var k = 1; k < tokens.Count; k++) Assert.Equal(tokens[k - 1].End, tokens[k].Start);
        foreach (var token in tokens)
        {
            Assert.Equal(tokenizer.GetPiece(token.Id), token.Piece);
            // A token whose bytes are whole characters has exactly their text; one that ends inside a character's
            // UTF-8 bytes holds a U+FFFD there and leaves the character to the token that completes it.
            if (!token.Piece.Contains('\uFFFD')) Assert.Equal(token.Piece, text.Substring(token.Start, token.Length));
        }
        if (name == "gpt2") Assert.Contains(tokens, t => t.Length == 0 && t.Piece.Contains('\uFFFD'));
    }

    [Fact]
    public void EncodesTheSameFromManyThreads()
    {
        var cl100k = Tokenizers.Load("cl100k_base");
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 100, gsmAnswers: 50, svampQuestions: 50)
            .Concat(SentencePieceUnigramTokenizerTests.EdgeCases).ToList();
        var sequential = texts.Select(t => cl100k.Encode(t).Tokens.ToArray()).ToList();
        var parallel = new Token[texts.Count][];
        Parallel.For(0, texts.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => parallel[i % texts.Count] = cl100k.Encode(texts[i % texts.Count]).Tokens.ToArray());
        for (var i = 0; i < texts.Count; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void SpecialTokenTextEncodesAsTheSpecialId()
    {
        var gpt2 = Tokenizers.Load("gpt2");
        Assert.Equal([31373, 50256], gpt2.Encode("hello<|endoftext|>").Ids);
    }
}
