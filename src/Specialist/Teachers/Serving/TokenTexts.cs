using System.Globalization;
using Specialist.Tokenization;

namespace Specialist.Teachers.Serving;

/// <summary>
/// The text each model id stands for in API answers: a SentencePiece piece with its <c>▁</c> made a space
/// (<c>"▁The"</c> → <c>" The"</c>), so a completion's text is exactly its tokens' texts joined. Ids the tokenizer's
/// decoder skips (padding, <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c>, <c>&lt;extra_id_N&gt;</c>) keep their piece, and ids
/// past the tokenizer's vocabulary (T5's embedding has 28 spare rows) read <c>&lt;id_N&gt;</c>, so distinct ids never
/// share a text and a top-k object never loses an entry.
/// </summary>
internal sealed class TokenTexts
{
    private readonly string[] _texts;

    private TokenTexts(string[] texts) => _texts = texts;

    public static TokenTexts Build(ITokenizer tokenizer, int modelVocabularySize)
    {
        var texts = new string[modelVocabularySize];
        for (var id = 0; id < modelVocabularySize; id++)
        {
            if (id >= tokenizer.VocabularySize)
            {
                texts[id] = string.Create(CultureInfo.InvariantCulture, $"<id_{id}>");
                continue;
            }
            var piece = tokenizer.GetPiece(id);
            // The decoder drops a lone piece's leading space too, so only a piece without '▁' that decodes to nothing is special.
            var special = id == tokenizer.PadId || id == tokenizer.EosId || id == tokenizer.UnkId
                          || (!piece.Contains('▁') && tokenizer.Decode([id]).Length == 0);
            texts[id] = special ? piece : piece.Replace('▁', ' ');
        }
        return new TokenTexts(texts);
    }

    public string this[int id] => _texts[id];
}
