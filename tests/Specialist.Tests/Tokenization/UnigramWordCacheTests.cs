using System.Text.Json;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

/// <summary>The unigram search's per-word lattice cache (<see cref="UnigramSegmenter"/>) changes no id and no offset.</summary>
public sealed class UnigramWordCacheTests
{
    [Fact]
    public void CachedUncachedAndLibraryEncodingsAreIdenticalOnGsm8kTrainAndEdgeCases()
    {
        var texts = Gsm8kTrainTexts().Concat(SentencePieceUnigramTokenizerTests.EdgeCases).Concat(CacheEdgeCases()).ToList();
        var uncached = SentencePieceTokenizer.Load(TestPaths.T5SpieceModel, wordCacheCapacity: 0);
        var cached = SentencePieceTokenizer.Load(TestPaths.T5SpieceModel);
        // A cache that fills every few texts and starts afresh.
        var small = SentencePieceTokenizer.Load(TestPaths.T5SpieceModel, wordCacheCapacity: 64);
        // Microsoft.ML.Tokenizers' unigram search over the whole normalised text, which the tokenizer ran before its own.
        var model = SentencePieceModelFile.Read(TestPaths.T5SpieceModel);
        var normalizer = new AligningNormalizer(model);
        var library = model.CreateLibraryTokenizer();
        // Twice, so that the second pass finds every word cached.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                var expected = uncached.Encode(texts[i]).Tokens;
                AssertSame(expected, cached.Encode(texts[i]).Tokens, $"cached, pass {pass}", texts[i]);
                AssertSame(expected, small.Encode(texts[i]).Tokens, $"small cache, pass {pass}", texts[i]);
                if (pass > 0) continue;
                // The library does not merge a run of unknown characters into one token.
                using var normalized = normalizer.Normalize(texts[i]);
                var all = library.EncodeToIds(normalized.ToUtf16().Text, addBeginningOfSentence: false, addEndOfSentence: false,
                    considerPreTokenization: false, considerNormalization: false);
                var libraryIds = all.Where((id, k) => id != 2 || k == 0 || all[k - 1] != 2);
                Assert.True(libraryIds.Append(1).SequenceEqual(expected.Select(t => t.Id)), $"library ids differ on {Show(texts[i])}");
            }
        }
    }

    /// <summary>GSM8K's 7,473 training questions and their 7,473 rationales (with calculator marks).</summary>
    private static IEnumerable<string> Gsm8kTrainTexts()
    {
        foreach (var line in File.ReadLines(Path.Combine(TestPaths.DataRoot, "gsm8k", "train.jsonl")))
        {
            var record = JsonDocument.Parse(line).RootElement;
            yield return record.GetProperty("question").GetString()!;
            yield return record.GetProperty("answer").GetString()!;
        }
    }

    private static IEnumerable<string> CacheEdgeCases()
    {
        var longest = UnigramSegmenter.MaxCachedWordBytes;
        return
        [
            "the the the the cat the the",
            "  the   the\tthe\n\nthe  \n",
            "\nthe\n",
            "the",
            " the",
            "the ",
            new string('x', longest) + " " + new string('x', longest) + " " + new string('x', longest + 1) + " " + new string('x', longest + 1),
            new string('é', longest / 2) + " " + new string('é', longest / 2 + 1) + " " + new string('é', longest / 2 + 1),
            "naïve naïve café café 😀😀 😀😀 日本語 日本語 ×× ×× a×b a×b",
            "<<48/2=24>> <<48/2=24>> {x} {x} ~ ~",
            "ﬁ ﬁ ① ① Ｆｕｌｌ Ｆｕｌｌ cafe\u0301 cafe\u0301",
            string.Concat(Enumerable.Repeat("antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis ", 5)),
        ];
    }

    private static void AssertSame(IReadOnlyList<Token> expected, IReadOnlyList<Token> actual, string what, string text) =>
        Assert.True(expected.SequenceEqual(actual),
            $"{what} differs on {Show(text)}\n expected: {string.Join(' ', expected)}\n actual:   {string.Join(' ', actual)}");

    private static string Show(string text) => text.Length > 120 ? text[..120] + "…" : text;
}
