using Specialist.Models;

namespace Specialist.Teachers.Serving;

/// <summary>One generated token as the API shows it: its text, where it starts in the choice's text, its log-prob and the top-k.</summary>
internal sealed record RenderedToken(string Text, int Offset, float Logprob, IReadOnlyList<(string Text, float Logprob)> Top);

/// <summary>
/// A generated sequence as an API choice. The text is exactly the tokens' texts joined (the end-of-sequence token is
/// not shown), so every token's offset points at its own text. A stop sequence cuts the choice at the last token
/// that ends before the stop sequence begins (a token that reaches into it is dropped with it).
/// </summary>
internal sealed record RenderedChoice(string Text, string FinishReason, IReadOnlyList<RenderedToken> Tokens, int GeneratedTokens)
{
    public static RenderedChoice Render(GeneratedSequence sequence, TokenTexts texts, IReadOnlyList<int> eosIds, IReadOnlyList<string> stops)
    {
        var count = sequence.Finished && sequence.Tokens.Count > 0 && eosIds.Contains(sequence.Tokens[^1]) ? sequence.Tokens.Count - 1 : sequence.Tokens.Count;
        var tokens = new List<RenderedToken>(count);
        var text = new System.Text.StringBuilder();
        for (var t = 0; t < count; t++)
        {
            var piece = texts[sequence.Tokens[t]];
            var step = sequence.Logprobs?[t];
            tokens.Add(new RenderedToken(piece, text.Length, step?.Chosen.Logprob ?? float.NaN,
                step is null ? [] : [.. step.Top.Select(c => (texts[c.Id], c.Logprob))]));
            text.Append(piece);
        }
        var full = text.ToString();
        var stopAt = stops.Select(s => full.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (stopAt >= 0)
        {
            var kept = tokens.TakeWhile(t => t.Offset + t.Text.Length <= stopAt).ToList();
            return new RenderedChoice(string.Concat(kept.Select(t => t.Text)), "stop", kept, sequence.Tokens.Count);
        }
        return new RenderedChoice(full, sequence.Finished ? "stop" : "length", tokens, sequence.Tokens.Count);
    }
}
