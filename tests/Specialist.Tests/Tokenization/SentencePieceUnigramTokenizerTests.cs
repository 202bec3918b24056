using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class SentencePieceUnigramTokenizerTests
{
    private static readonly Lazy<ITokenizer> T5 = new(() => Tokenizers.Load(TestPaths.T5SpieceModel));

    /// <summary>Texts that stress the normaliser and the unigram search.</summary>
    internal static readonly string[] EdgeCases =
    [
        "",
        "   ",
        "line one\nline two\n\nline four\n",
        "a\r\nb\rc",
        "tabs\tbetween\t\twords\t",
        "runs   of    spaces  and trailing   ",
        "   leading spaces",
        "Ｆｕｌｌ－ｗｉｄｔｈ：ＡＢＣ１２３　ｘ",
        "Accents: café naïve résumé Ångström Ça façade",
        "Combining: cafe\u0301 n\u0303 A\u030A",
        "Emoji: 😀 👍🏽 🧮 family 👨‍👩‍👧 flags 🇫🇷",
        "CJK: 日本語のテキスト、中文字符，한국어 텍스트",
        "Compatibility: ﬁ ﬂ ½ ² ㎏ Ⅻ ① ℌ ǅ",
        "Controls and odd spaces: x\u0085y x\u000By x\u000Cy x\u00A0y x\u2003y x\u200By x\u2028y",
        "Unknown runs: <<48/2=24>> {braces} ~tilde~ `code` \\backslash",
        "<pad></s><unk><s><extra_id_0> look like specials but are text",
        "$1,234.50 + 3/4 - 5% = 0.75 km/h (approx.) #### 42",
        string.Concat(Enumerable.Repeat("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. ", 60)),
        new string('a', 5000),
    ];

    [Fact]
    public void IdsEqualSpmEncodeOnRealQuestionsAndEdgeCases()
    {
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 120, gsmAnswers: 40, svampQuestions: 60).Concat(EdgeCases).ToList();
        var expected = SentencePieceReference.EncodeIds(texts.Select(SentencePieceReference.AsOneLine).ToList());
        for (var i = 0; i < texts.Count; i++)
        {
            var ids = T5.Value.Encode(texts[i]).Ids;
            Assert.True(expected[i].Append(1).SequenceEqual(ids),
                $"text {i} {Show(texts[i])}\n spm_encode + </s>: {string.Join(' ', expected[i].Append(1))}\n ours:              {string.Join(' ', ids)}");
        }
    }

    [Theory]
    [InlineData("translate English to German: How old are you?", new[] { 13959, 1566, 12, 2968, 10, 571, 625, 33, 25, 58, 1 })]
    [InlineData("translate English to German: The house is wonderful.", new[] { 13959, 1566, 12, 2968, 10, 37, 629, 19, 1627, 5, 1 })]
    [InlineData("translate English to German: Hello world", new[] { 13959, 1566, 12, 2968, 10, 8774, 296, 1 })]
    public void KnownT5Encodings(string text, int[] expected) => Assert.Equal(expected, T5.Value.Encode(text).Ids);

    [Fact]
    public void SpecialIdsFollowHuggingFaceT5()
    {
        var t5 = T5.Value;
        Assert.Equal(32_100, t5.VocabularySize);
        Assert.Equal((int?)0, t5.PadId);
        Assert.Equal((int?)1, t5.EosId);
        Assert.Equal((int?)2, t5.UnkId);
        Assert.True(t5.AppendsEos);
        Assert.True(t5.TryGetId("<extra_id_0>", out var first));
        Assert.Equal(32_099, first);
        Assert.True(t5.TryGetId("<extra_id_99>", out var last));
        Assert.Equal(32_000, last);
        Assert.Equal("<extra_id_0>", t5.GetPiece(32_099));
        Assert.True(t5.TryGetId("</s>", out var eos));
        Assert.Equal(1, eos);
        Assert.True(t5.TryGetId("▁translate", out var translate));
        Assert.Equal(13959, translate);
        Assert.Equal("▁translate", t5.GetPiece(13959));
        Assert.False(t5.TryGetId("no such piece", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => t5.GetPiece(32_100));
        Assert.Throws<ArgumentOutOfRangeException>(() => t5.GetPiece(-1));
    }

    [Fact]
    public void DecodeSkipsSpecialsAndOtherwiseEqualsSpmDecode()
    {
        var t5 = T5.Value;
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 20, gsmAnswers: 5, svampQuestions: 5)
            .Select(SentencePieceReference.AsOneLine).Concat(["Ｆｕｌｌ－ｗｉｄｔｈ café 😀 日本語", "a <<b>> c"]).ToList();
        var ids = texts.Select(t => t5.Encode(t).Ids.Where(id => id != 1).ToArray()).ToList();
        // spm_decode renders unknown ids as " ⁇ "; Hugging Face's skip_special_tokens (and we) drop them.
        var expected = SentencePieceReference.DecodeIds(ids.Select(s => (IReadOnlyList<int>)s.Where(id => id != 2).ToArray()).ToList());
        for (var i = 0; i < texts.Count; i++)
        {
            int[] padded = [0, 32_099, .. ids[i], 32_000, 1, 0, 0];
            Assert.Equal(expected[i], t5.Decode(padded));
        }
        Assert.Equal("How old are you?", t5.Decode([571, 625, 33, 25, 58, 1, 0, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t5.Decode([571, 32_127]));
    }

    [Fact]
    public void PiecesEqualSpmPiecesAndAreVocabularyPiecesOutsideUnknownRuns()
    {
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 30, gsmAnswers: 10, svampQuestions: 10)
            .Select(SentencePieceReference.AsOneLine).Concat(EdgeCases.Select(SentencePieceReference.AsOneLine)).ToList();
        var expected = SentencePieceReference.EncodePieces(texts);
        for (var i = 0; i < texts.Count; i++)
        {
            var tokens = T5.Value.Encode(texts[i]).Tokens;
            Assert.Equal(expected[i].Length + 1, tokens.Count);
            for (var k = 0; k < expected[i].Length; k++)
            {
                Assert.Equal(expected[i][k], tokens[k].Piece);
                // A run of unknown characters is its text, as spm_encode prints it; any other piece is the vocabulary's.
                Assert.Equal(tokens[k].Id == 2 ? "<unk>" : tokens[k].Piece, T5.Value.GetPiece(tokens[k].Id));
            }
            Assert.Equal("</s>", tokens[^1].Piece);
        }
    }

    [Fact]
    public void OffsetsCoverTheOriginalTextContiguously()
    {
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 50, gsmAnswers: 20, svampQuestions: 20).Concat(EdgeCases).ToList();
        foreach (var text in texts)
        {
            var tokens = T5.Value.Encode(text).Tokens;
            var content = tokens.Take(tokens.Count - 1).ToList();
            // Leading and trailing whitespace is dropped by the normaliser; the tokens cover the rest with no gap or overlap.
            Assert.Equal(text.Trim(), string.Concat(content.Select(t => text.Substring(t.Start, t.Length))));
            if (content.Count > 0) Assert.Equal(text.Length - text.TrimStart().Length, content[0].Start);
            for (var k = 1; k < content.Count; k++) Assert.Equal(content[k - 1].End, content[k].Start);
            Assert.Equal(new Token(1, "</s>", text.Length, 0), tokens[^1]);
            // In ASCII text normalisation changes nothing but whitespace, so a token's text is its piece with '▁' for the
            // spaces before it. (Elsewhere a token can hold part of one character's normal form, like the "f" of "ﬁ".)
            if (!text.All(char.IsAscii)) continue;
            foreach (var token in content.Where(t => t.Id != 2))
                Assert.Equal(token.Piece.Replace('▁', ' ').Trim(), text.Substring(token.Start, token.Length).Trim());
        }
    }

    [Fact]
    public void OffsetsReferToTheTextBeforeNormalisation()
    {
        // Full-width letters and an ideographic space normalise to "Hello world"; the spans stay on the original characters.
        AssertTokens("Ｈｅｌｌｏ　ｗｏｒｌｄ", (8774, "Ｈｅｌｌｏ"), (296, "　ｗｏｒｌｄ"));
        // A combining accent composes with its letter; the token covers both characters.
        AssertTokens("cafe\u0301", (11949, "cafe\u0301"));
        // A run of unknown characters is one token spanning the whole run; the "▁" before it covers the space.
        AssertTokens("a <<b", (3, ""), (9, "a"), (3, " "), (2, "<<"), (115, "b"));
        // Spaces collapse into one "▁" token that spans all of them; leading and trailing spaces belong to no token.
        AssertTokens("  x   y  ", (3, ""), (226, "x"), (3, "   "), (63, "y"));
    }

    [Fact]
    public void EncodesTheSameFromManyThreads()
    {
        var texts = SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 100, gsmAnswers: 50, svampQuestions: 50).Concat(EdgeCases).ToList();
        var sequential = texts.Select(t => T5.Value.Encode(t).Tokens.ToArray()).ToList();
        var parallel = new Token[texts.Count][];
        Parallel.For(0, texts.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => parallel[i % texts.Count] = T5.Value.Encode(texts[i % texts.Count]).Tokens.ToArray());
        for (var i = 0; i < texts.Count; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    private static void AssertTokens(string text, params (int Id, string Text)[] expected)
    {
        var tokens = T5.Value.Encode(text).Tokens;
        Assert.Equal([.. expected.Select(e => e.Id), 1], tokens.Select(t => t.Id).ToArray());
        Assert.Equal([.. expected.Select(e => e.Text), ""], tokens.Select(t => text.Substring(t.Start, t.Length)).ToArray());
    }

    private static string Show(string text) => text.Length > 120 ? text[..120] + "…" : text;
}
