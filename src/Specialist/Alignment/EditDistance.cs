using System.Text;

namespace Specialist.Alignment;

/// <summary>
/// Levenshtein distance (unit insert, delete, substitute) over Unicode code points, as the authors' <c>editdistance</c>
/// package computes it on Python strings. Token strings are short, so one stack row suffices.
/// </summary>
internal static class EditDistance
{
    public static long Calls;
    public static int Levenshtein(string a, string b)
    {
        Calls++;
        if (a.Length == 0) return CodePointCount(b);
        if (b.Length == 0) return CodePointCount(a);
        if (HasSurrogate(a) || HasSurrogate(b)) return Levenshtein(CodePoints(a), CodePoints(b));
        return Levenshtein(a.AsSpan(), b.AsSpan());
    }

    private static int Levenshtein<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        // A common prefix or suffix never changes the distance; dropping it makes most token pairs trivial.
        var prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        var suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[a.Length - 1 - suffix].Equals(b[b.Length - 1 - suffix])) suffix++;
        a = a[..^suffix];
        b = b[..^suffix];
        if (a.Length == 0) return b.Length;
        if (b.Length == 0) return a.Length;
        if (a.Length < b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }

        Span<int> row = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) row[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            var ai = a[i - 1];
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                var substitute = diagonal + (ai.Equals(b[j - 1]) ? 0 : 1);
                var best = Math.Min(Math.Min(above, row[j - 1]) + 1, substitute);
                diagonal = above;
                row[j] = best;
            }
        }
        return row[b.Length];
    }

    private static bool HasSurrogate(string s)
    {
        foreach (var c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    private static int CodePointCount(string s)
    {
        var count = 0;
        foreach (var _ in s.EnumerateRunes()) count++;
        return count;
    }

    private static int[] CodePoints(string s)
    {
        var points = new List<int>(s.Length);
        foreach (Rune rune in s.EnumerateRunes()) points.Add(rune.Value);
        return [.. points];
    }

    private static int Levenshtein(int[] a, int[] b) => Levenshtein<int>(a, b);
}
