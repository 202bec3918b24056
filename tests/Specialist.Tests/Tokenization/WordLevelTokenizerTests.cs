using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class WordLevelTokenizerTests
{
    private static readonly string[] Corpus =
    [
        "Mia has 3 * 12 = 36 apples.\nShe gives 5 apples to Ben.",
        "How many apples does Mia have now? The answer is 31",
        "Sort the following words: apple banana. So the answer is apple banana.",
    ];

    private static WordLevelTokenizer Build(int maxVocabulary = 1000) => WordLevelTokenizer.Build(Corpus, maxVocabulary);

    [Theory]
    [InlineData("Mia has 3 * 12 = 36 apples.\nShe gives 5 apples to Ben.")]
    [InlineData("  two leading spaces,  two inside, a tab\tand a trailing space ")]
    [InlineData("Zyxt qwerty unseen words, 1234567890!\n\nblank line above")]
    [InlineData("\n Let's think step by step\n")]
    [InlineData("")]
    [InlineData(" \n\t ")]
    public void Decode_gives_the_text_back_without_its_outer_whitespace_and_each_token_covers_its_own_text(string text)
    {
        var tokenizer = Build();
        var encoded = tokenizer.Encode(text);
        var trimmed = text.Trim();
        Assert.Equal(trimmed, tokenizer.Decode(encoded.Ids));
        Assert.Equal(tokenizer.EosId, encoded.Ids[^1]);
        Assert.Equal((text.Length, 0), (encoded.Tokens[^1].Start, encoded.Tokens[^1].Length));
        var start = text.Length - text.TrimStart().Length;
        var end = start;
        foreach (var token in encoded.Tokens.SkipLast(1))
        {
            Assert.Equal(end, token.Start);
            Assert.Equal(token.Piece, tokenizer.GetPiece(token.Id));
            Assert.Equal(text.Substring(token.Start, token.Length), token.Piece.Replace('\u2581', ' '));
            end = token.End;
        }
        Assert.Equal(trimmed.Length, end - start);
        Assert.DoesNotContain(tokenizer.UnkId!.Value, encoded.Ids);
    }

    [Fact]
    public void Outer_whitespace_encodes_like_none_as_sentencepiece_normalises_it()
    {
        var tokenizer = Build();
        Assert.Equal(tokenizer.Encode("Let's think step by step").Ids, tokenizer.Encode("Let's think step by step\n").Ids);
        Assert.Equal(tokenizer.Encode("Mia has 3 apples.").Ids, tokenizer.Encode(" \tMia has 3 apples.  ").Ids);
        Assert.Equal([tokenizer.EosId!.Value], tokenizer.Encode(" \n ").Ids);
    }

    [Fact]
    public void Words_digits_and_punctuation_are_separate_pieces()
    {
        var tokenizer = Build();
        var pieces = tokenizer.Encode("Mia has 36 apples.").Tokens.Select(t => t.Piece).ToArray();
        Assert.Equal(["Mia", "\u2581has", "\u25813", "6", "\u2581apples", ".", "</s>"], pieces);
        Assert.Equal((0, 1, 2), (tokenizer.PadId!.Value, tokenizer.EosId!.Value, tokenizer.UnkId!.Value));
        Assert.True(tokenizer.AppendsEos);
    }

    [Fact]
    public void A_smaller_vocabulary_drops_the_rarest_words_and_spells_them_out()
    {
        var full = Build();
        var size = full.VocabularySize - 3;
        var small = WordLevelTokenizer.Build(Corpus, size);
        Assert.Equal(size, small.VocabularySize);
        for (var id = 0; id < size; id++) Assert.Equal(full.GetPiece(id), small.GetPiece(id));
        Assert.True(small.TryGetId("\u2581apples", out _)); // the most frequent word
        var dropped = Enumerable.Range(size, 3).Select(full.GetPiece).ToList();
        Assert.All(dropped, piece => Assert.True(piece.TrimStart('\u2581').Length > 1, piece)); // words, not characters
        var text = string.Concat(dropped.Select(piece => piece.Replace('\u2581', ' ')));
        Assert.Equal(text.Trim(), small.Decode(small.Encode(text).Ids));
        Assert.True(small.Encode(text).Ids.Count > full.Encode(text).Ids.Count);
        var e = Assert.Throws<SpecialistException>(() => WordLevelTokenizer.Build(Corpus, 50));
        Assert.Contains("50", e.Message);
    }

    [Fact]
    public void Characters_the_corpus_never_showed_are_unknown_and_decoding_skips_specials()
    {
        var tokenizer = Build();
        var encoded = tokenizer.Encode("apples \u00e9t\u00e9");
        Assert.Contains(tokenizer.UnkId!.Value, encoded.Ids);
        Assert.Equal("apples t", tokenizer.Decode(encoded.Ids));
        Assert.Equal("apples", tokenizer.Decode([0, .. tokenizer.Encode("apples").Ids, 0, 0]));
        Assert.Equal(tokenizer.UnkId, tokenizer.Encode("\u2581").Ids[0]); // the space mark itself is no space
    }

    [Fact]
    public void Save_and_load_keep_every_id()
    {
        var tokenizer = Build();
        var path = Path.Combine(TestPaths.NewTempDir(), WordLevelTokenizer.FileName);
        tokenizer.Save(path);
        var loaded = WordLevelTokenizer.Load(path);
        Assert.Equal(path, loaded.Name);
        Assert.Equal(tokenizer.VocabularySize, loaded.VocabularySize);
        for (var id = 0; id < tokenizer.VocabularySize; id++) Assert.Equal(tokenizer.GetPiece(id), loaded.GetPiece(id));
        Assert.Equal(tokenizer.Encode(Corpus[0]).Ids, loaded.Encode(Corpus[0]).Ids);
    }

    [Theory]
    [InlineData("{\"kind\": \"bpe\", \"pieces\": []}", "kind")]
    [InlineData("{\"kind\": \"word-level\", \"pieces\": [\"<pad>\", \"<unk>\", \"</s>\", \"\u2581\"]}", "pieces")]
    [InlineData("{\"kind\": \"word-level\", \"pieces\": [\"<pad>\", \"</s>\", \"<unk>\", \"a\", \"a\", \"\u2581\"]}", "pieces")]
    [InlineData("{\"kind\": \"word-level\", \"pieces\": [\"<pad>\", \"</s>\", \"<unk>\"]}", "pieces")]
    public void A_malformed_file_names_itself_and_the_field(string json, string field)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), WordLevelTokenizer.FileName);
        File.WriteAllText(path, json);
        var e = Assert.Throws<DataFormatException>(() => WordLevelTokenizer.Load(path));
        Assert.Equal(field, e.Field);
        Assert.Contains(path, e.Message);
    }
}
