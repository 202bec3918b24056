namespace Specialist.Tokenization;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c>, which byte-level BPE vocabularies are written in: each byte is one printable
/// character. Bytes that print as themselves in Latin-1 (<c>!</c> … <c>~</c>, <c>¡</c> … <c>¬</c>, <c>®</c> … <c>ÿ</c>)
/// stand for themselves; the other 68 (controls, space, soft hyphen) take U+0100 onwards in byte order, so a space is
/// <c>Ġ</c> and a newline <c>Ċ</c>.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] Symbols = BuildSymbols();
    private static readonly int[] Bytes = BuildBytes();

    public static char SymbolOf(byte b) => Symbols[b];

    public static bool IsSymbol(char c) => c < Bytes.Length && Bytes[c] >= 0;

    /// <summary>The byte <paramref name="c"/> stands for; <paramref name="c"/> must be a symbol.</summary>
    public static byte ByteOf(char c) => (byte)Bytes[c];

    private static char[] BuildSymbols()
    {
        var symbols = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
            symbols[b] = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF ? (char)b : (char)next++;
        return symbols;
    }

    private static int[] BuildBytes()
    {
        var bytes = new int[0x200];
        Array.Fill(bytes, -1);
        for (var b = 0; b < 256; b++) bytes[Symbols[b]] = b;
        return bytes;
    }
}
