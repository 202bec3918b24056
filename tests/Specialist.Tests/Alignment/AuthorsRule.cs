namespace Specialist.Tests.Alignment;

/// <summary>
/// An independent, deliberately plain transcription of the authors' alignment rule (METHOD.md §3, issue 5): a
/// (n+1)×(m+1) matrix of doubles with an infinite border, Levenshtein over code points by the textbook table, the
/// backtrace of their dtw() with numpy-argmin tie order, and the target rule through an insertion-ordered dictionary.
/// Slow on purpose; the library must agree with it exactly.
/// </summary>
internal static class AuthorsRule
{
    public sealed record Result(List<int>[] Mapping, List<(string Piece, double Probability)>[] Targets, double OptimalCost, bool Tie);

    public static Result Align(IReadOnlyList<string> teacher, IReadOnlyList<IReadOnlyList<(string Token, double P)>> topk,
        IReadOnlyList<string> student, Func<string, bool> inStudentVocabulary)
    {
        int n = teacher.Count, m = student.Count;
        var costs = new Dictionary<(string, string), int>(); // the same pairs recur; remembering them only saves time
        int CachedCost(string t, string s) => costs.TryGetValue((t, s), out var c) ? c : costs[(t, s)] = Cost(t, s);
        var matrix = new double[n + 1, m + 1];
        for (var i = 0; i <= n; i++)
            for (var j = 0; j <= m; j++)
                matrix[i, j] = double.PositiveInfinity;
        matrix[0, 0] = 0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < m; j++)
                matrix[i + 1, j + 1] = CachedCost(teacher[i], student[j]) + Math.Min(matrix[i, j + 1], Math.Min(matrix[i + 1, j], matrix[i, j]));

        // matrix[1:, 1:] in the authors' code
        double D(int i, int j) => matrix[i + 1, j + 1];
        var mapping = Enumerable.Range(0, m).Select(_ => new List<int>()).ToArray();
        var tie = false;
        int a = n - 1, b = m - 1;
        while (a > 0 || b > 0)
        {
            mapping[b].Add(a);
            var options = new[]
            {
                a > 0 && b > 0 ? D(a - 1, b - 1) : double.PositiveInfinity,
                a > 0 ? D(a - 1, b) : double.PositiveInfinity,
                b > 0 ? D(a, b - 1) : double.PositiveInfinity,
            };
            var move = 0;
            for (var k = 1; k < 3; k++)
                if (options[k] < options[move]) move = k;
            for (var k = 0; k < 3; k++)
                if (k != move && options[k] == options[move]) tie = true;
            if (move == 0) { a--; b--; }
            else if (move == 1) a--;
            else b--;
        }
        mapping[0].Add(0);
        foreach (var list in mapping) list.Reverse();

        var targets = new List<(string, double)>[m];
        for (var j = 0; j < m; j++)
        {
            targets[j] = [];
            if (mapping[j].Count == 1 && teacher[mapping[j][0]].Replace(' ', '\u2581') == student[j])
            {
                var kept = new Dictionary<string, double>();
                var order = new List<string>();
                foreach (var (token, p) in topk[mapping[j][0]])
                {
                    var piece = token.Replace(' ', '\u2581');
                    if (!inStudentVocabulary(piece) || kept.ContainsKey(piece)) continue;
                    kept[piece] = p;
                    order.Add(piece);
                }
                foreach (var piece in order) targets[j].Add((piece, kept[piece]));
            }
            else targets[j].Add((student[j], 1.0));
        }
        return new Result(mapping, targets, n > 0 && m > 0 ? D(n - 1, m - 1) : 0, tie);
    }

    /// <summary>The cost the paper's DP uses: Levenshtein of the teacher string without spaces and the student piece without ▁.</summary>
    public static int Cost(string teacher, string student) => Levenshtein(teacher.Replace(" ", ""), student.Replace("\u2581", ""));

    public static int Levenshtein(string first, string second)
    {
        var x = first.EnumerateRunes().Select(r => r.Value).ToArray();
        var y = second.EnumerateRunes().Select(r => r.Value).ToArray();
        var d = new int[x.Length + 1, y.Length + 1];
        for (var i = 0; i <= x.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= y.Length; j++) d[0, j] = j;
        for (var i = 1; i <= x.Length; i++)
            for (var j = 1; j <= y.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1));
        return d[x.Length, y.Length];
    }
}
