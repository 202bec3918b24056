using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

/// <summary>
/// A SentencePiece BPE model as Llama 2's (<c>tokenizer.model</c>): trained here by <c>spm_train</c> with Llama 2's
/// settings on GSM8K text, so that byte fallback, split digits and kept whitespace are exercised, and checked against
/// <c>spm_encode</c> / <c>spm_decode</c> with the same model.
/// </summary>
public sealed class SentencePieceBpeTokenizerTests
{
    private static readonly Lazy<string> Folder = new(TrainLlama2StyleModel);

    private static string Model => Path.Combine(Folder.Value, Tokenizers.SentencePieceBpeFileName);

    private static List<string> Texts() =>
    [
        .. SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 60, gsmAnswers: 30, svampQuestions: 30),
        .. SentencePieceUnigramTokenizerTests.EdgeCases,
    ];

    [Fact]
    public void IdsEqualSpmEncodeAndTokensTileTheText()
    {
        var tokenizer = Tokenizers.LoadFromModelFolder(Folder.Value);
        // spm_encode reads a text per line, so both sides encode the one-line form (this model keeps '\n' distinct).
        var texts = Texts().Select(SentencePieceReference.AsOneLine).ToList();
        var expected = SentencePieceReference.EncodeIds(texts, Model);
        for (var i = 0; i < texts.Count; i++)
        {
            var encoded = tokenizer.Encode(texts[i]);
            Assert.True(expected[i].SequenceEqual(encoded.Ids), $"text {i}: {texts[i][..Math.Min(80, texts[i].Length)]}");
            var end = 0;
            foreach (var token in encoded.Tokens)
            {
                Assert.Equal(end, token.Start);
                end = token.End;
            }
            Assert.Equal(texts[i].Length, end);
        }
    }

    [Fact]
    public void ACharacterOutsideTheVocabularyIsSpeltInBytePiecesTheLastOfWhichCoversIt()
    {
        var encoded = Tokenizers.LoadFromModelFolder(Folder.Value).Encode("🦀");
        var bytes = encoded.Tokens.Where(t => t.Piece.StartsWith("<0x", StringComparison.Ordinal)).ToList();
        Assert.Equal(["<0xF0>", "<0x9F>", "<0xA6>", "<0x80>"], bytes.Select(t => t.Piece));
        Assert.Equal([0, 0, 0, 2], bytes.Select(t => t.Length));
    }

    [Fact]
    public void DecodeEqualsSpmDecode()
    {
        var tokenizer = Tokenizers.LoadFromModelFolder(Folder.Value);
        var ids = Texts().Select(SentencePieceReference.AsOneLine).Select(t => (IReadOnlyList<int>)tokenizer.Encode(t).Ids).ToList();
        var expected = SentencePieceReference.DecodeIds(ids, Model);
        for (var i = 0; i < ids.Count; i++) Assert.Equal(expected[i], tokenizer.Decode(ids[i]));
    }

    [Fact]
    public void LlamaConventionsWithTheConfigOverridingThem()
    {
        var tokenizer = Tokenizers.Load(Model);
        Assert.Equal((1, 2, 0), (tokenizer.BosId, tokenizer.EosId, tokenizer.UnkId));
        Assert.Null(tokenizer.PadId);
        Assert.False(tokenizer.AppendsEos);
        Assert.Equal(600, tokenizer.VocabularySize);
        Assert.DoesNotContain(1, tokenizer.Encode("Hello").Ids);

        var folder = TestPaths.NewTempDir();
        File.Copy(Model, Path.Combine(folder, Tokenizers.SentencePieceBpeFileName));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            new JsonObject { ["add_bos_token"] = false, ["add_eos_token"] = true, ["pad_token"] = "<unk>" }.ToJsonString());
        var configured = Tokenizers.LoadFromModelFolder(folder);
        Assert.Null(configured.BosId);
        Assert.Equal(0, configured.PadId);
        Assert.True(configured.AppendsEos);
        Assert.Equal(2, configured.Encode("Hello").Ids[^1]);
    }

    private static string TrainLlama2StyleModel()
    {
        var folder = TestPaths.NewTempDir();
        var corpus = Path.Combine(folder, "corpus.txt");
        File.WriteAllLines(corpus, SentencePieceReference.GsmAndSvampTexts(gsmQuestions: 400, gsmAnswers: 400, svampQuestions: 200)
            .SelectMany(t => t.Split('\n')).Append("Héllo wörld café naïve 日本語のテキスト"));
        var psi = new ProcessStartInfo("spm_train") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "--input=" + corpus, "--model_prefix=" + Path.Combine(folder, "tokenizer"), "--model_type=bpe", "--vocab_size=600",
                     "--byte_fallback=true", "--split_digits=true", "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
                     "--add_dummy_prefix=true", "--allow_whitespace_only_pieces=true", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                     "--character_coverage=0.9995", "--num_threads=1", "--minloglevel=2",
                 })
            psi.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"spm_train is not installed ({e.Message}): install the Debian package 'sentencepiece'", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"spm_train failed: {stderr.Result}");
        }
        File.Delete(corpus);
        return folder;
    }
}
