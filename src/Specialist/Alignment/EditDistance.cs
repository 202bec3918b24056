using System.Text;

namespace Specialist.Alignment;

/// <summary>
/// Levenshtein distance (unit insert, delete, substitute) over Unicode code points, as the authors' <c>editdistance</c>
/// package computes it on Python strings. Token strings are a few characters long and the warping asks for many
/// distances per text, so the common shapes are answered without a table and the rest bit-parallel (past 64
/// characters, with one row of the table).
/// </summary>
internal static class EditDistance
{
    public static int Levenshtein(string a, string b) =>
        HasSurrogate(a) || HasSurrogate(b) ? Levenshtein<int>(CodePoints(a), CodePoints(b)) : Levenshtein(a.AsSpan(), b.AsSpan());

    private static int Levenshtein<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : struct, IEquatable<T>
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
        if (b.Length <= 64) return BitParallel(a, b);

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

    /// <summary>
    /// Hyyrö's bit-vector form of the same table (2001; Myers 1999): one 64-bit word holds a column's vertical
    /// differences, so each character of <paramref name="text"/> costs a handful of word operations. The row above
    /// the table counts up by one per column, hence the carried-in 1 on the horizontal positive differences.
    /// </summary>
    private static int BitParallel<T>(ReadOnlySpan<T> text, ReadOnlySpan<T> pattern) where T : struct, IEquatable<T>
    {
        ulong positive = ~0UL, negative = 0;
        var last = 1UL << (pattern.Length - 1);
        var score = pattern.Length;
        foreach (var c in text)
        {
            ulong equal = 0;
            for (var k = 0; k < pattern.Length; k++)
                if (pattern[k].Equals(c)) equal |= 1UL << k;
            var vertical = equal | negative;
            var horizontal = (((equal & positive) + positive) ^ positive) | equal;
            var up = negative | ~(horizontal | positive);
            var down = positive & horizontal;
            if ((up & last) != 0) score++;
            else if ((down & last) != 0) score--;
            up = (up << 1) | 1;
            down <<= 1;
            positive = down | ~(vertical | up);
            negative = up & vertical;
        }
        return score;
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
