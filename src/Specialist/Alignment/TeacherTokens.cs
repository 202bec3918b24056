using System.Globalization;
using System.Text;

namespace Specialist.Alignment;

/// <summary>How a teacher API spelled its token strings.</summary>
public enum TeacherTokenForm
{
    /// <summary>Decide per text (see <see cref="TeacherTokens.Normalize"/>).</summary>
    Auto,
    /// <summary>Plain text (OpenAI's <c>token</c>, vLLM, llama.cpp): kept as is, except <c>bytes:\xNN</c> strings and explicit byte arrays.</summary>
    Text,
    /// <summary>Byte-level BPE symbols (Hugging Face's <c>convert_ids_to_tokens</c> for GPT-2-style tokenizers: <c>Ġ</c> for a space, <c>Ċ</c> for a newline).</summary>
    ByteLevel,
}

/// <summary>A token string as a teacher API returned it, with its UTF-8 bytes where the API gave them (OpenAI chat's <c>bytes</c>).</summary>
public readonly record struct RawTeacherToken(string Token, byte[]? Bytes = null);

/// <summary>The normalised sampled tokens of one text and the form they were read in (to read that text's candidates alike).</summary>
public sealed record NormalizedTeacherTokens(IReadOnlyList<string> Tokens, TeacherTokenForm Form);

/// <summary>
/// Turns teacher token strings into plain text before alignment. APIs spell tokens three ways besides plain text:
/// <list type="bullet">
/// <item>byte-level BPE symbols, where each of the 256 byte values is one printable character (GPT-2's
/// <c>bytes_to_unicode</c>: printable bytes stand for themselves, the other 68 — space, newline, controls, … — are
/// U+0100 + n, so <c>Ġ</c> = space, <c>Ċ</c> = newline); we map each symbol back to its byte;</item>
/// <item>explicit UTF-8 byte arrays (OpenAI chat's <c>bytes</c>), and OpenAI completions' <c>bytes:\xe2\x80</c> strings
/// for tokens that are not whole characters; we take those bytes;</item>
/// <item>a character whose UTF-8 bytes are split over several tokens: no token is valid UTF-8 on its own. We decode the
/// sequence's bytes in order and give each character to the token that completes it (the tokens before it become
/// shorter, possibly empty) — the same convention as our tiktoken tokenizer's spans, so the tokens still concatenate
/// to the text. Bytes that are not UTF-8 at all decode to U+FFFD.</item>
/// </list>
/// A candidate of the top-k list is normalised on its own (it was never emitted, so there is no sequence around it);
/// a candidate that is only part of a character then holds U+FFFD and matches no student piece.
/// </summary>
public static class TeacherTokens
{
    private const string BytesPrefix = "bytes:";

    /// <summary>Parses a form name: <c>auto</c>, <c>text</c> or <c>byte-level</c>.</summary>
    public static TeacherTokenForm ParseForm(string name) => name switch
    {
        "auto" => TeacherTokenForm.Auto,
        "text" => TeacherTokenForm.Text,
        "byte-level" => TeacherTokenForm.ByteLevel,
        _ => throw new SpecialistException($"unknown teacher token form '{name}' (use auto, text or byte-level)"),
    };

    /// <summary>Byte value of each byte-level symbol below U+0144, or -1 for a character that is not a symbol.</summary>
    private static readonly short[] ByteOfSymbol = BuildByteLevelTable();

    /// <summary>
    /// Normalises one text's sampled tokens. With <see cref="TeacherTokenForm.Auto"/>: tokens that concatenate to
    /// <paramref name="text"/> (or, without a text, hold no byte-level marker) are plain text; otherwise, if every
    /// character is a byte-level symbol and the decoded bytes give the text (or, without a text, some token holds a
    /// symbol ≥ U+0100 such as <c>Ġ</c>, and none a space or newline), they are byte-level; else plain text.
    /// </summary>
    public static NormalizedTeacherTokens Normalize(IReadOnlyList<RawTeacherToken> tokens, string? text, TeacherTokenForm form = TeacherTokenForm.Auto)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (form == TeacherTokenForm.Auto) form = Detect(tokens, text);
        var needsBytes = form == TeacherTokenForm.ByteLevel;
        foreach (var t in tokens) needsBytes |= t.Bytes is not null || IsBytesString(t.Token);
        if (!needsBytes) return new NormalizedTeacherTokens([.. tokens.Select(t => t.Token)], form);

        // Decode the whole sequence as one UTF-8 stream, a character going to the token whose bytes complete it.
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var result = new string[tokens.Count];
        var chars = new char[16];
        for (var i = 0; i < tokens.Count; i++)
        {
            var bytes = BytesOf(tokens[i], form);
            var flush = i == tokens.Count - 1;
            var count = decoder.GetCharCount(bytes, 0, bytes.Length, flush);
            if (count > chars.Length) chars = new char[count * 2];
            var written = decoder.GetChars(bytes, 0, bytes.Length, chars, 0, flush);
            result[i] = new string(chars, 0, written);
        }
        return new NormalizedTeacherTokens(result, form);
    }

    /// <summary>Normalises one top-k candidate on its own, in the <paramref name="form"/> its text's tokens were read in (<see cref="NormalizedTeacherTokens.Form"/>).</summary>
    public static string NormalizeCandidate(RawTeacherToken token, TeacherTokenForm form)
    {
        if (form != TeacherTokenForm.ByteLevel && token.Bytes is null && !IsBytesString(token.Token)) return token.Token;
        return new UTF8Encoding(false, false).GetString(BytesOf(token, form));
    }

    /// <summary>
    /// Builds the <see cref="TeacherSequence"/> of one text from raw API strings: <paramref name="positions"/> holds per
    /// position the sampled token first, then the top-k; the sampled tokens are normalised as a sequence, the others as
    /// candidates.
    /// </summary>
    public static TeacherSequence ToSequence(string text, TeacherVocabulary vocabulary,
        IReadOnlyList<IReadOnlyList<(RawTeacherToken Token, double Probability)>> positions, TeacherTokenForm form = TeacherTokenForm.Auto)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var sampled = new RawTeacherToken[positions.Count];
        for (var i = 0; i < sampled.Length; i++)
            sampled[i] = positions[i].Count > 0 ? positions[i][0].Token : throw new ArgumentException($"position {i} has no candidates", nameof(positions));
        var normalized = Normalize(sampled, text, form);
        var lists = new TeacherCandidate[positions.Count][];
        for (var i = 0; i < lists.Length; i++)
        {
            var raw = positions[i];
            var list = lists[i] = new TeacherCandidate[raw.Count];
            list[0] = new TeacherCandidate(normalized.Tokens[i], raw[0].Probability);
            for (var k = 1; k < raw.Count; k++)
                list[k] = new TeacherCandidate(
                    SameRaw(raw[k].Token, raw[0].Token) ? normalized.Tokens[i] : NormalizeCandidate(raw[k].Token, normalized.Form), raw[k].Probability);
        }
        return TeacherSequence.Create(text, vocabulary, lists);
    }

    // The sampled token repeated among the top-k is the same token: give it the same (sequence-normalised) string.
    private static bool SameRaw(RawTeacherToken a, RawTeacherToken b) =>
        a.Token == b.Token && (a.Bytes is null ? b.Bytes is null : b.Bytes is not null && a.Bytes.AsSpan().SequenceEqual(b.Bytes));

    private static TeacherTokenForm Detect(IReadOnlyList<RawTeacherToken> tokens, string? text)
    {
        if (text is not null && ConcatenatesTo(tokens, text)) return TeacherTokenForm.Text;
        var sawHighSymbol = false;
        var sawWhitespace = false;
        foreach (var t in tokens)
        {
            foreach (var c in t.Token)
            {
                if (c >= ByteOfSymbol.Length || ByteOfSymbol[c] < 0) return TeacherTokenForm.Text;
                sawHighSymbol |= c >= 0x100;
            }
            sawWhitespace |= t.Token.AsSpan().ContainsAny(' ', '\n');
        }
        if (text is null) return sawHighSymbol && !sawWhitespace ? TeacherTokenForm.ByteLevel : TeacherTokenForm.Text;
        return DecodesTo(tokens, text) ? TeacherTokenForm.ByteLevel : TeacherTokenForm.Text;
    }

    private static bool DecodesTo(IReadOnlyList<RawTeacherToken> tokens, string text)
    {
        var bytes = new List<byte>(text.Length);
        foreach (var t in tokens) bytes.AddRange(BytesOf(t, TeacherTokenForm.ByteLevel));
        return new UTF8Encoding(false, false).GetString([.. bytes]) == text;
    }

    private static bool ConcatenatesTo(IReadOnlyList<RawTeacherToken> tokens, string text)
    {
        var cursor = 0;
        foreach (var t in tokens)
        {
            if (!text.AsSpan(cursor).StartsWith(t.Token, StringComparison.Ordinal)) return false;
            cursor += t.Token.Length;
        }
        return cursor == text.Length;
    }

    private static byte[] BytesOf(RawTeacherToken token, TeacherTokenForm form)
    {
        if (token.Bytes is not null) return token.Bytes;
        if (TryParseBytesString(token.Token, out var parsed)) return parsed;
        if (form != TeacherTokenForm.ByteLevel) return Encoding.UTF8.GetBytes(token.Token);
        var bytes = new byte[token.Token.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            var c = token.Token[i];
            // A character outside the byte-level alphabet cannot come from a byte-level API; keep its UTF-8 form.
            if (c >= ByteOfSymbol.Length || ByteOfSymbol[c] < 0) return Encoding.UTF8.GetBytes(token.Token);
            bytes[i] = (byte)ByteOfSymbol[c];
        }
        return bytes;
    }

    private static bool IsBytesString(string token) => TryParseBytesString(token, out _);

    /// <summary>
    /// OpenAI completions' spelling of a token that is not whole UTF-8: <c>bytes:</c> then the bytes as <c>\xNN</c>
    /// escapes, printable ASCII bytes possibly written as themselves (Python's bytes repr); at least one escape.
    /// </summary>
    private static bool TryParseBytesString(string token, out byte[] bytes)
    {
        bytes = [];
        if (!token.StartsWith(BytesPrefix, StringComparison.Ordinal) || !token.Contains("\\x", StringComparison.Ordinal)) return false;
        var rest = token.AsSpan(BytesPrefix.Length);
        var parsed = new List<byte>(rest.Length / 4 + 1);
        for (var i = 0; i < rest.Length;)
        {
            if (rest[i] == '\\' && i + 3 < rest.Length && rest[i + 1] == 'x'
                && byte.TryParse(rest.Slice(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var escaped))
            {
                parsed.Add(escaped);
                i += 4;
            }
            else if (rest[i] is >= ' ' and <= '~') parsed.Add((byte)rest[i++]);
            else return false;
        }
        bytes = [.. parsed];
        return true;
    }

    private static short[] BuildByteLevelTable()
    {
        var table = new short[0x144];
        Array.Fill(table, (short)-1);
        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[printable ? b : 0x100 + next++] = (short)b;
        }
        return table;
    }
}
