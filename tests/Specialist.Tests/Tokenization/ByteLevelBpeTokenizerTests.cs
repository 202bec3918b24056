using System.Text.Json.Nodes;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class ByteLevelBpeTokenizerTests
{
    /// <summary>
    /// Merges in rank order. "e r" outranks "h e", so "there" shows rank winning over position; "' S" and "1 2" join
    /// across pre-tokenizer pieces only where a pattern keeps them together; the last joins an emoji's final byte
    /// (0x80 of 😀 = F0 9F 98 80) with "a".
    /// </summary>
    private static readonly (string, string)[] Merges =
    [
        ("Ġ", "t"), ("e", "r"), ("h", "e"), ("Ġt", "he"), ("t", "he"), ("Ġ", "c"), ("a", "t"), ("Ġc", "at"), ("Ġ", "h"),
        ("Ġh", "er"), ("'", "S"), ("1", "2"), (Sym(0x80), "a"), ("Ã", "©"),
    ];

    private static readonly string[] Specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    private static readonly HuggingFaceTokenizerFolder Qwen = new()
    {
        Merges = Merges,
        AddedTokens = Specials,
        Nfc = true,
        Config = new JsonObject { ["bos_token"] = null, ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>" },
    };

    private static string Sym(byte b) => ByteLevelAlphabet.SymbolOf(b).ToString();

    private static int[] Ids(HuggingFaceTokenizerFolder folder, params string[] symbols) => [.. symbols.Select(folder.IdOf)];

    [Fact]
    public void MergesByRankAsBpeDoes()
    {
        var tokenizer = Qwen.Load();
        Assert.Equal(Ids(Qwen, "the", "Ġcat"), tokenizer.Encode("the cat").Ids);
        // t h e r e: "e r" (rank 1) merges before "h e" (rank 2), and then nothing else applies.
        Assert.Equal(Ids(Qwen, "t", "h", "er", "e"), tokenizer.Encode("there").Ids);
        // Ġ h e r: "e r", then "Ġ h", then "Ġh er".
        Assert.Equal(Ids(Qwen, "Ġher"), tokenizer.Encode(" her").Ids);
        Assert.Equal(Ids(Qwen, "Ġthe", "Ġcat", "Ġher"), tokenizer.Encode(" the cat her").Ids);
    }

    [Fact]
    public void QwenPatternSplitsDigitsOneByOneAndKeepsContractionsCaseInsensitive()
    {
        var qwen = Qwen.Load();
        Assert.Equal(Ids(Qwen, "1", "2", "3"), qwen.Encode("123").Ids);
        Assert.Equal(Ids(Qwen, "I", "T", "'S"), qwen.Encode("IT'S").Ids);

        // GPT-2's pattern (ByteLevel with use_regex) keeps numbers whole and knows only lower-case contractions.
        var gpt2 = new HuggingFaceTokenizerFolder { Merges = Merges, SplitPattern = null };
        Assert.Equal(Ids(gpt2, "12", "3"), gpt2.Load().Encode("123").Ids);
        Assert.Equal(Ids(gpt2, "I", "T", "'", "S"), gpt2.Load().Encode("IT'S").Ids);
    }

    [Fact]
    public void PatternsSeeCodePointsSoAnEmojiJoinsTheWordAfterIt()
    {
        // [^\r\n\p{L}\p{N}]?\p{L}+ takes "😀a" as one piece, where its last byte and "a" merge; matched per UTF-16 unit
        // the emoji would be a piece of its own.
        var encoded = Qwen.Load().Encode("😀a");
        Assert.Equal(Ids(Qwen, Sym(0xF0), Sym(0x9F), Sym(0x98), Sym(0x80) + "a"), encoded.Ids);
        // The token that completes the emoji covers it; the ones before cover nothing.
        Assert.Equal([(0, 0), (0, 0), (0, 0), (0, 3)], encoded.Tokens.Select(t => (t.Start, t.Length)));
        Assert.Equal(["<0xF0>", "<0x9F>", "<0x98>", "<0x80>a"], encoded.Tokens.Select(t => t.Piece));
    }

    [Fact]
    public void NfcComposesBeforeMerging()
    {
        // e + U+0301 is é (C3 A9) after NFC, which "Ã ©" merges; the token covers both original characters.
        var encoded = Qwen.Load().Encode("cafe\u0301!");
        Assert.Equal(Ids(Qwen, "c", "a", "f", "Ã©", "!"), encoded.Ids);
        Assert.Equal((3, 2), (encoded.Tokens[3].Start, encoded.Tokens[3].Length));
        Assert.Equal("é", encoded.Tokens[3].Piece);

        var withoutNfc = new HuggingFaceTokenizerFolder { Merges = Merges };
        Assert.Equal(Ids(withoutNfc, "c", "a", "f", "e", Sym(0xCC), Sym(0x81), "!"), withoutNfc.Load().Encode("cafe\u0301!").Ids);
    }

    [Fact]
    public void IgnoreMergesTakesAPieceThatIsATokenWhole()
    {
        var folder = new HuggingFaceTokenizerFolder { Merges = Merges, ExtraTokens = ["Ġcats"], IgnoreMerges = true };
        Assert.Equal(Ids(folder, "Ġcats"), folder.Load().Encode(" cats").Ids);
        var merging = new HuggingFaceTokenizerFolder { Merges = Merges, ExtraTokens = ["Ġcats"] };
        Assert.Equal(Ids(merging, "Ġcat", "s"), merging.Load().Encode(" cats").Ids);
    }

    [Fact]
    public void AddedTokensAreFoundInTheRawTextAndNeverSplit()
    {
        var tokenizer = Qwen.Load();
        var encoded = tokenizer.Encode("<|im_start|>user\nthe<|im_end|><|im_end");
        Assert.Equal(
            [Qwen.IdOf("<|im_start|>"), .. Ids(Qwen, "u", "s", "er", "Ċ", "the"), Qwen.IdOf("<|im_end|>"),
             .. Ids(Qwen, "<", "|", "i", "m", "_", "e", "n", "d")],
            encoded.Ids);
        Assert.Equal("<|im_start|>", encoded.Tokens[0].Piece);
        Assert.Equal((0, 12), (encoded.Tokens[0].Start, encoded.Tokens[0].Length));
        Assert.True(tokenizer.TryGetId("<|im_end|>", out var imEnd));
        Assert.Equal(Qwen.IdOf("<|im_end|>"), imEnd);
        // Decoding skips special tokens.
        Assert.Equal("user\nthe<|im_end", tokenizer.Decode(encoded.Ids));
    }

    [Theory]
    [InlineData("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.")]
    [InlineData("Héllo wörld — café naïve Ångström")]
    [InlineData("emoji 😀 👍🏽 family 👨‍👩‍👧 flags 🇫🇷 🧮x")]
    [InlineData("line one\nline two\n\n\nline five\r\n")]
    [InlineData("runs   of    spaces\t\ttabs   ")]
    [InlineData("   leading and trailing   ")]
    [InlineData("CJK: 日本語のテキスト、中文字符，한국어 텍스트 𠀀𝟘")]
    [InlineData("it's they're I'VE we'll 1234567 3.14 #### 42 <<48/2=24>>")]
    [InlineData("")]
    public void DecodeGivesTheTextBackAndTokensTileIt(string text)
    {
        var tokenizer = Qwen.Load();
        var encoded = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(encoded.Ids));
        var end = 0;
        foreach (var token in encoded.Tokens)
        {
            Assert.Equal(end, token.Start);
            end = token.End;
            Assert.Equal(token.Piece, tokenizer.GetPiece(token.Id));
        }
        Assert.Equal(text.Length, end);
        // A token that covers whole characters has their text as its piece, spaces written ▁.
        foreach (var token in encoded.Tokens.Where(t => t.Length > 0 && !t.Piece.Contains("<0x")))
            Assert.Equal(text.Substring(token.Start, token.Length).Replace(' ', '▁'), token.Piece);
    }

    [Fact]
    public void SpecialIdsComeFromTheConfigAndThePostProcessor()
    {
        var qwen = Qwen.Load();
        Assert.Null(qwen.BosId);
        Assert.Equal(Qwen.IdOf("<|im_end|>"), qwen.EosId);
        Assert.Equal(Qwen.IdOf("<|endoftext|>"), qwen.PadId);
        Assert.Null(qwen.UnkId);
        Assert.False(qwen.AppendsEos);
        Assert.Equal(256 + Merges.Length + Specials.Length, qwen.VocabularySize);

        var llama3 = new HuggingFaceTokenizerFolder
        {
            Merges = Merges,
            AddedTokens = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
            BosPrefix = "<|begin_of_text|>",
            Config = new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = new JsonObject { ["content"] = "<|eot_id|>", ["special"] = true } },
        };
        var tokenizer = llama3.Load();
        Assert.Equal(llama3.IdOf("<|begin_of_text|>"), tokenizer.BosId);
        Assert.Equal(llama3.IdOf("<|eot_id|>"), tokenizer.EosId);
        Assert.Null(tokenizer.PadId);
        // Encode never adds the BOS: a sequence starts with it once (ChatPrompt adds it).
        Assert.Equal(Ids(llama3, "the"), tokenizer.Encode("the").Ids);
    }

    [Fact]
    public void AWordLevelTokenizerJsonStillLoadsByItsContent()
    {
        var folder = TestPaths.NewTempDir();
        var wordLevel = WordLevelTokenizer.Build(["the cat sat"], 1000);
        wordLevel.Save(Path.Combine(folder, "tokenizer.json"));
        var loaded = Tokenizers.LoadFromModelFolder(folder);
        Assert.IsType<WordLevelTokenizer>(loaded);
        Assert.Equal(wordLevel.Encode("the cat").Ids, loaded.Encode("the cat").Ids);
    }

    [Fact]
    public void TokenizeCommandReadsAFolder()
    {
        var folder = Qwen.Write();
        var result = CliRunner.Run("tokenize", "--tokenizer", folder, "--text", "<|im_start|> the cat", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{{\"ids\":[{Qwen.IdOf("<|im_start|>")},{Qwen.IdOf("Ġthe")},{Qwen.IdOf("Ġcat")}],\"pieces\":[\"<|im_start|>\",\"▁the\",\"▁cat\"]}}",
            result.Stdout.Trim());
    }

    public static TheoryData<string, Action<JsonObject>, string, string> BrokenFiles => new()
    {
        { "model.type", j => j["model"]!["type"] = "WordPiece", "\"WordPiece\"", "only byte-level BPE" },
        { "model.type", j => j["model"]!["type"] = "Unigram", "\"Unigram\"", "only byte-level BPE" },
        { "model.dropout", j => j["model"]!["dropout"] = 0.1, "dropout", "is set" },
        { "model.vocab", j => j["model"]!["vocab"]!.AsObject().Remove("Ġ"), "byte 0x20", "lacks" },
        { "model.vocab", j => j["model"]!["vocab"]!["the cat"] = 999, "\"the cat\"", "not a byte-level symbol" },
        { "model.merges", j => j["model"]!["merges"]!.AsArray().Add("Ġ z"), "\"Ġz\"", "not in model.vocab" },
        { "model.merges", j => j["model"]!["merges"]!.AsArray().Add(new JsonArray("Ġ", "t")), "merge 14", "repeats merge 0" },
        { "model.merges", j => j["model"]!["merges"]!.AsArray().Add(3), "merge 14", "expected" },
        { "normalizer.type", j => j["normalizer"] = new JsonObject { ["type"] = "NFKC" }, "\"NFKC\"", "only normaliser" },
        { "pre_tokenizer.type", j => j["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" }, "\"Whitespace\"", "byte-level pre-tokenizer" },
        { "pre_tokenizer.pretokenizers[0].behavior", j => j["pre_tokenizer"]!["pretokenizers"]![0]!["behavior"] = "Removed", "\"Removed\"", "Isolated" },
        { "pre_tokenizer.pretokenizers[0].pattern.Regex", j => j["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = "(unclosed", "cannot compile", "pattern" },
        { "decoder", j => j["decoder"] = new JsonObject { ["type"] = "Metaspace" }, "\"Metaspace\"", "ByteLevel" },
        { "added_tokens[1].lstrip", j => j["added_tokens"]![1]!["lstrip"] = true, "lstrip", "not supported" },
        { "added_tokens[0].id", j => j["added_tokens"]![0]!["id"] = 5, "is 5", "another token" },
        { "post_processor.type", j => j["post_processor"] = new JsonObject { ["type"] = "RobertaProcessing" }, "\"RobertaProcessing\"", "TemplateProcessing" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void AnUnsupportedFileIsRefusedNamingTheFileAndTheField(string field, Action<JsonObject> breakIt, string detail, string reason)
    {
        var json = Qwen.TokenizerJson();
        breakIt(json);
        var folder = Qwen.Write(json);
        var e = Assert.Throws<DataFormatException>(() => Tokenizers.LoadFromModelFolder(folder));
        Assert.Equal(Path.Combine(folder, "tokenizer.json"), e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(detail, e.Message);
        Assert.Contains(reason, e.Message);
        Assert.Matches(@"line \d+", e.Location);
    }

    [Fact]
    public void AConfigNamingATokenTheVocabularyLacksIsRefused()
    {
        var folder = new HuggingFaceTokenizerFolder { Merges = Merges, Config = new JsonObject { ["eos_token"] = "</s>" } }.Write();
        var e = Assert.Throws<SpecialistException>(() => Tokenizers.LoadFromModelFolder(folder));
        Assert.Contains(Path.Combine(folder, "tokenizer_config.json"), e.Message);
        Assert.Contains("'eos_token'", e.Message);
    }

    [Fact]
    public void BrokenJsonIsAnErrorNotACrash()
    {
        var folder = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        var e = Assert.Throws<DataFormatException>(() => Tokenizers.LoadFromModelFolder(folder));
        Assert.Contains(Path.Combine(folder, "tokenizer.json"), e.Message);
    }
}
