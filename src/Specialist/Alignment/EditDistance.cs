using System.Text;

namespace Specialist.Alignment;

/// <summary>
/// Levenshtein distance (unit insert, delete, substitute) over Unicode code points, as the authors' <c>editdistance</c>
/// package computes it on Python strings. Token strings are a few characters long and the warping asks for many
/// distances per text, so the common shapes are answered without a table and the rest with one stack row.
/// </summary>
internal static class EditDistance
{
    public static int Levenshtein(string a, string b) =>
        HasSurrogate(a) || HasSurrogate(b) ? Levenshtein<int>(CodePoints(a), CodePoints(b)) : Levenshtein(a.AsSpan(), b.AsSpan());

    private static int Levenshtein<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        // A common prefix or suffix never changes the distance; dropping it makes most token pairs trivial.
        var start = 0;
        while (start < a.Length && start < b.Length && a[start].Equals(b[start])) start++;
        int endA = a.Length, endB = b.Length;
        while (endA > start && endB > start && a[endA - 1].Equals(b[endB - 1]))
        {
            endA--;
            endB--;
        }
        a = a[start..endA];
        b = b[start..endB];
        if (a.Length == 0) return b.Length;
        if (b.Length == 0) return a.Length;
        // One element against several: keep it where it occurs, else substitute it.
        if (a.Length == 1) return b.Contains(a[0]) ? b.Length - 1 : b.Length;
        if (b.Length == 1) return a.Contains(b[0]) ? a.Length - 1 : a.Length;
        if (a.Length < b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }

        Span<int> row = b.Length < 64 ? stackalloc int[64] : new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) row[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            var left = row[0] = i;
            var ai = a[i - 1];
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                left = Math.Min(Math.Min(above, left) + 1, diagonal + (ai.Equals(b[j - 1]) ? 0 : 1));
                diagonal = above;
                row[j] = left;
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

    private static int[] CodePoints(string s)
    {
        var points = new List<int>(s.Length);
        foreach (var rune in s.EnumerateRunes()) points.Add(rune.Value);
        return [.. points];
    }
}
