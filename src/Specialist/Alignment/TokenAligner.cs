using System.Collections.Concurrent;
using Specialist.Tokenization;

namespace Specialist.Alignment;

/// <summary>
/// Aligns a teacher's tokens (GPT byte-level BPE) with a student's (T5 SentencePiece) and turns the teacher's per-position
/// top-k into per-student-token sparse targets (METHOD.md §3). Thread-safe: one instance serves many threads.
/// </summary>
/// <remarks>
/// The rule (<see cref="AlignmentMode.Paper"/>), as the authors' code computes it:
/// <list type="number">
/// <item>cost(i, j) = Levenshtein(teacher token i without spaces, student piece j without <c>▁</c>);</item>
/// <item>D[0][0] = 0, D[0][*] = D[*][0] = ∞, D[i+1][j+1] = cost(i, j) + min(D[i][j], D[i][j+1], D[i+1][j]);</item>
/// <item>backtrace from (n−1, m−1) while i &gt; 0 or j &gt; 0, moving to the smallest of the diagonal, (i−1, j) and
/// (i, j−1) — on ties in that order — and finally (0, 0); each visited cell maps teacher token i to student token j;</item>
/// <item>a student token mapped to exactly one teacher token whose string (spaces → <c>▁</c>) equals its piece gets that
/// position's candidate list in order, each candidate (spaces → <c>▁</c>) looked up in the student vocabulary, those
/// not in it dropped, the first occurrence of an id kept, probabilities as they are; every other token gets one-hot.</item>
/// </list>
/// <see cref="AlignmentMode.Fast"/> computes the same warping only between anchors (see there). Student pieces are those
/// of the text without the final <c>&lt;/s&gt;</c>, as Hugging Face's <c>tokenize()</c> gives them, which the authors'
/// code compared: an unknown token's string is the text it stands for (<see cref="Token.Piece"/>: <c>×</c>, not
/// <c>&lt;unk&gt;</c>), in the costs, in the string comparison of the target rule and in <see cref="AlignedText.StudentPieces"/>;
/// its id stays the unknown id. With no teacher tokens every target is one-hot.
/// </remarks>
public sealed class TokenAligner
{
    private readonly string?[] _studentContents;

    [ThreadStatic] private static Workspace? t_workspace;

    /// <param name="student">The student's tokenizer (T5's <c>spiece.model</c>).</param>
    /// <param name="options">Mode and options; default fast, no renormalisation, no merging.</param>
    public TokenAligner(ITokenizer student, AlignmentOptions? options = null)
    {
        Student = student ?? throw new ArgumentNullException(nameof(student));
        Options = options ?? new AlignmentOptions();
        _studentContents = new string?[student.VocabularySize];
    }

    /// <summary>The student's tokenizer.</summary>
    public ITokenizer Student { get; }

    /// <summary>The mode and options in force.</summary>
    public AlignmentOptions Options { get; }

    /// <summary>Tokenizes the teacher's text with the student's tokenizer and aligns.</summary>
    public AlignedText Align(TeacherSequence teacher) => Align(teacher, Student.Encode(teacher.Text));

    /// <summary>Aligns with the student's tokens of <see cref="TeacherSequence.Text"/>, already encoded (a final <c>&lt;/s&gt;</c> is left out).</summary>
    public AlignedText Align(TeacherSequence teacher, TokenizedText student) => Align(teacher, student, null);

    /// <summary>
    /// Aligns and, when <paramref name="path"/> is given, fills it with the warping path: per student token the first
    /// teacher token mapped to it and how many are (the path's cells in that column).
    /// </summary>
    internal AlignedText Align(TeacherSequence teacher, TokenizedText student, List<(int First, int Count)>? path)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(student);
        var work = t_workspace ??= new Workspace();
        var tokens = student.Tokens;
        var m = Tokenizers.TextTokenCount(Student, student);
        var n = teacher.Count;
        var lookup = teacher.Vocabulary.For(Student);

        var (ids, pieces) = work.Reset(teacher, lookup, n, tokens, m, this);

        var byOffsets = false;
        if (n > 0 && m > 0)
        {
            work.Record(0, 0);
            byOffsets = Options.Mode == AlignmentMode.Fast && work.TryOffsetPath();
            if (!byOffsets) work.WarpPath(0, 0, n - 1, m - 1);
        }
        path?.AddRange(work.Path());
        return new AlignedText(ids, pieces, work.BuildTargets(Options), byOffsets);
    }

    /// <summary>Aligns many texts on all cores (or <paramref name="maxDegreeOfParallelism"/>), results in input order.</summary>
    public AlignedText[] AlignAll(IReadOnlyList<TeacherSequence> teachers, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(teachers);
        var results = new AlignedText[teachers.Count];
        // Ranges rather than single items: one text takes microseconds, so per-item scheduling would dominate.
        var ranges = Partitioner.Create(0, teachers.Count, Math.Max(16, teachers.Count / (8 * Environment.ProcessorCount)));
        Parallel.ForEach(ranges, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, range =>
        {
            for (var i = range.Item1; i < range.Item2; i++) results[i] = Align(teachers[i]);
        });
        return results;
    }

    /// <summary>Student piece <paramref name="id"/> without <c>▁</c> (the right operand of the cost), kept once computed.</summary>
    private string StudentContent(int id) => _studentContents[id] ??= WithoutSpaceMarks(Student.GetPiece(id));

    private static string WithoutSpaceMarks(string piece) => piece.Replace("\u2581", "", StringComparison.Ordinal);

    /// <summary>One thread's buffers, reused from text to text so aligning allocates only its results.</summary>
    private sealed class Workspace
    {
        private const int Infinity = int.MaxValue;
        private const int CostCacheBits = 14;
        private const int MaxWindow = 48;
        private const int SmallWindow = 16;

        private TeacherSequence _teacher = null!;
        private StudentPieces _lookup = null!;
        private int[] _ids = [];
        private string[] _pieces = [];
        private int _n, _m;
        private int _unkId;

        // Per teacher token: its string without spaces, that string's length in code points, where it starts in the
        // text (offsets path only; one more entry for the end) and how many path cells it has.
        private string[] _teacherContents = new string[256];
        private int[] _teacherLengths = new int[256];
        private int[] _teacherStarts = new int[257];
        private int[] _teacherCount = new int[256];
        // Per student token: its piece without ▁, that piece's length, its span in the text, its path cells and the
        // first teacher token among them.
        private string[] _studentContents = new string[256];
        private int[] _studentLengths = new int[256];
        private int[] _studentStarts = new int[256];
        private int[] _studentEnds = new int[256];
        private int[] _mapCount = new int[256];
        private int[] _firstTeacher = new int[256];
        private int[] _cells = new int[4096];
        private readonly List<(int I, int J)> _matches = new(256);
        private readonly List<(int I, int J)> _anchors = new(256);
        private readonly List<int> _targetIds = new(1024);
        private readonly List<double> _targetProbabilities = new(1024);
        private readonly long[] _costKeys = new long[1 << CostCacheBits];
        private readonly int[] _costValues = new int[1 << CostCacheBits];
        private StudentPieces? _costOwner;

        /// <summary>Takes in one text: the teacher's <paramref name="n"/> tokens and the student's first <paramref name="m"/>; returns the student's ids and pieces.</summary>
        public (int[] Ids, string[] Pieces) Reset(TeacherSequence teacher, StudentPieces lookup, int n, IReadOnlyList<Token> tokens, int m, TokenAligner aligner)
        {
            // Cached costs hold for one (teacher vocabulary, student tokenizer) pair, which StudentPieces is.
            if (!ReferenceEquals(_costOwner, lookup))
            {
                Array.Clear(_costKeys);
                _costOwner = lookup;
            }
            _teacher = teacher;
            _lookup = lookup;
            _unkId = lookup.Student.UnkId ?? -1;
            _n = n;
            _m = m;
            Ensure(ref _teacherContents, n);
            Ensure(ref _teacherCount, n);
            Ensure(ref _teacherLengths, n);
            Ensure(ref _teacherStarts, n + 1);
            Ensure(ref _studentContents, m);
            Ensure(ref _studentStarts, m);
            Ensure(ref _studentLengths, m);
            Ensure(ref _studentEnds, m);
            Ensure(ref _mapCount, m);
            Ensure(ref _firstTeacher, m);
            for (var i = 0; i < n; i++)
            {
                _teacherContents[i] = lookup.Content(teacher.TokenNumber(i));
                _teacherLengths[i] = CodePointLength(_teacherContents[i]);
                _teacherCount[i] = 0;
            }
            _ids = new int[m];
            _pieces = new string[m];
            for (var j = 0; j < m; j++)
            {
                var token = tokens[j];
                _ids[j] = token.Id;
                _pieces[j] = token.Piece;
                _studentContents[j] = token.Id == _unkId ? WithoutSpaceMarks(token.Piece) : aligner.StudentContent(token.Id);
                _studentLengths[j] = CodePointLength(_studentContents[j]);
                _studentStarts[j] = token.Start;
                _studentEnds[j] = token.End;
                _mapCount[j] = 0;
                _firstTeacher[j] = int.MaxValue;
            }
            return (_ids, _pieces);
        }

        /// <summary>Maps teacher token <paramref name="i"/> to student token <paramref name="j"/> (a cell of the path).</summary>
        public void Record(int i, int j)
        {
            _mapCount[j]++;
            if (i < _firstTeacher[j]) _firstTeacher[j] = i;
            _teacherCount[i]++;
        }

        /// <summary>Per student token: the first teacher token mapped to it and how many are.</summary>
        public IEnumerable<(int First, int Count)> Path()
        {
            for (var j = 0; j < _m; j++) yield return (_firstTeacher[j], _mapCount[j]);
        }

        /// <summary>
        /// The cost of teacher token <paramref name="i"/> against student token <paramref name="j"/>. The same pairs recur
        /// from text to text (a newline against "▁The"), so costs are kept in a direct-mapped cache keyed by (teacher
        /// string number, student id), valid for one vocabulary and one student tokenizer.
        /// </summary>
        private int Cost(int i, int j)
        {
            // Unknown tokens share one id but not one text: their costs are not cached.
            if (_ids[j] == _unkId) return EditDistance.Levenshtein(_teacherContents[i], _studentContents[j]);
            var key = ((long)_teacher.TokenNumber(i) << 32 | (uint)_ids[j]) + 1; // + 1: an empty slot holds 0
            var slot = (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15UL)) >> (64 - CostCacheBits));
            if (_costKeys[slot] == key) return _costValues[slot];
            var cost = EditDistance.Levenshtein(_teacherContents[i], _studentContents[j]);
            _costKeys[slot] = key;
            _costValues[slot] = cost;
            return cost;
        }

        /// <summary>
        /// The paper's warping restricted to the rectangle from A = (ia, ja) to B = (ib, jb), entered at A: records the
        /// backtrace's cells from B back to A, A excluded. Over the whole matrix this is the paper's rule exactly (the
        /// first row and column see only in-rectangle predecessors, as the infinite border makes them; D[0][0] is
        /// offset by cost(0, 0), which shifts every D alike).
        /// </summary>
        /// <param name="ia">A's teacher index.</param>
        /// <param name="ja">A's student index.</param>
        /// <param name="ib">B's teacher index.</param>
        /// <param name="jb">B's student index.</param>
        /// <param name="bound">
        /// The cost of some path from A to B, or <see cref="Infinity"/>. A cell whose D would exceed it is never on
        /// the optimal path nor ties with a cell that is (every D on that path is at most D(B) ≤ bound), so it is left
        /// at infinity without computing its cost: the result is unchanged, and most of a wide window is skipped.
        /// </param>
        public void WarpPath(int ia, int ja, int ib, int jb, int bound = Infinity)
        {
            int rows = ib - ia + 1, cols = jb - ja + 1;
            if (rows == 1 || cols == 1)
            {
                // A single row or column: the only path.
                for (int i = ib, j = jb; i > ia || j > ja; i -= rows == 1 ? 0 : 1, j -= rows == 1 ? 1 : 0) Record(i, j);
                return;
            }
            if (rows == 2 && cols == 2)
            {
                // From B the diagonal is A with D = 0, never beaten by the costs (≥ 0) of the other two.
                Record(ib, jb);
                return;
            }
            Ensure(ref _cells, rows * cols);
            var d = _cells.AsSpan(0, rows * cols);
            d.Fill(Infinity);
            d[0] = 0;
            // Finite cells of the previous row lie in [low, high]: a row's cells left of low have only infinite
            // predecessors, and right of high + 1 only their left neighbour, so each row is computed from low until
            // it turns infinite past high + 1.
            int low = 0, high = 0;
            for (var r = 0; r < rows; r++)
            {
                var row = r * cols;
                int first = -1, last = -1;
                for (var c = r == 0 ? 1 : low; c < cols; c++)
                {
                    var best = c > 0 ? d[row + c - 1] : Infinity;
                    if (r > 0)
                    {
                        if (c > 0) best = Math.Min(best, d[row - cols + c - 1]);
                        best = Math.Min(best, d[row - cols + c]);
                    }
                    if (best == Infinity && c > high + 1) break;
                    // |length difference| bounds the edit distance from below: skip cells that cannot come in under the bound.
                    if (best == Infinity || best > bound || best + Math.Abs(_teacherLengths[ia + r] - _studentLengths[ja + c]) > bound) continue;
                    var value = best + Cost(ia + r, ja + c);
                    if (value > bound) continue;
                    d[row + c] = value;
                    if (first < 0) first = c;
                    last = c;
                }
                if (r == 0) first = 0;
                if (first < 0) break; // nothing under the bound: cannot happen while bound is a real path's cost
                (low, high) = (first, Math.Max(last, first));
            }
            for (int r = rows - 1, c = cols - 1; r > 0 || c > 0;)
            {
                Record(ia + r, ja + c);
                var diagonal = r > 0 && c > 0 ? d[(r - 1) * cols + c - 1] : Infinity;
                var up = r > 0 ? d[(r - 1) * cols + c] : Infinity;
                var left = c > 0 ? d[r * cols + c - 1] : Infinity;
                // numpy's argmin: the first smallest of [diagonal, up, left].
                if (diagonal <= up && diagonal <= left) { r--; c--; }
                else if (up <= left) r--;
                else c--;
            }
        }

        /// <summary>
        /// The cost of the path from A = (ia, ja) to B = (ib, jb) that follows the character offsets: each teacher token
        /// goes to the student token where it starts (kept monotone), columns in between are crossed along the row
        /// above. A bound for <see cref="WarpPath"/>.
        /// </summary>
        private int OffsetPathCost(int ia, int ja, int ib, int jb)
        {
            var total = 0;
            var c = ja;
            var s = ja;
            for (var i = ia + 1; i <= ib; i++)
            {
                // The last student token starting at or before the teacher token's start, within the window.
                while (s < jb && _studentStarts[s + 1] <= _teacherStarts[i]) s++;
                var target = Math.Clamp(s, c, jb);
                for (var j = c + 1; j < target; j++) total += Cost(i - 1, j);
                total += Cost(i, target);
                c = target;
            }
            for (var j = c + 1; j <= jb; j++) total += Cost(ib, j);
            return total;
        }

        /// <summary>
        /// When the teacher's tokens concatenate to the text: finds the anchors — matches (a teacher and a student
        /// token overlapping in the text with cost 0) flanked by matches — and warps only between consecutive anchors.
        /// False (nothing recorded beyond (0, 0)) when the tokens do not concatenate to the text or anchors are more
        /// than <see cref="MaxWindow"/> tokens apart.
        /// </summary>
        public bool TryOffsetPath()
        {
            var text = _teacher.Text.AsSpan();
            var cursor = 0;
            for (var i = 0; i < _n; i++)
            {
                var token = _teacher.Vocabulary[_teacher.TokenNumber(i)];
                if (!text[cursor..].StartsWith(token, StringComparison.Ordinal)) return false;
                _teacherStarts[i] = cursor;
                cursor += token.Length;
            }
            if (cursor != text.Length) return false;
            _teacherStarts[_n] = cursor;

            // Matches: a teacher and a student token overlapping in the text with the same non-blank characters
            // (cost 0), increasing in both sequences.
            _matches.Clear();
            int lastI = -1, t = 0;
            for (var j = 0; j < _m; j++)
            {
                int start = _studentStarts[j], end = _studentEnds[j];
                if (end <= start || _studentContents[j].Length == 0) continue;
                while (t < _n && _teacherStarts[t + 1] <= start) t++;
                for (var k = Math.Max(t, lastI + 1); k < _n && _teacherStarts[k] < end; k++)
                {
                    if (_teacherStarts[k + 1] > start && string.Equals(_teacherContents[k], _studentContents[j], StringComparison.Ordinal))
                    {
                        _matches.Add((k, j));
                        lastI = k;
                        break;
                    }
                }
            }
            // Anchors: matches flanked by matches on both sides. A lone match next to a token with no counterpart (a
            // bare "▁", a newline, several teacher tokens in one student token) is often bypassed by the optimal
            // path, which shifts by one there; inside a run of matches such a shift costs more than it can gain.
            _anchors.Clear();
            _anchors.Add((0, 0));
            for (var a = 1; a < _matches.Count - 1; a++)
            {
                var (i, j) = _matches[a];
                if (_matches[a - 1] == (i - 1, j - 1) && _matches[a + 1] == (i + 1, j + 1) && (i, j) != (0, 0) && (i, j) != (_n - 1, _m - 1))
                    _anchors.Add((i, j));
            }
            _anchors.Add((_n - 1, _m - 1));
            // A long stretch without anchors is no longer local: a run of blank teacher tokens (gpt2 spells 70
            // spaces as 70 tokens) costs nothing against a bare "▁" anywhere, and the optimal path may travel far to
            // reach one. Such texts get the whole-text warping.
            for (var a = 1; a < _anchors.Count; a++)
                if (_anchors[a].I - _anchors[a - 1].I > MaxWindow || _anchors[a].J - _anchors[a - 1].J > MaxWindow) return false;
            for (var a = 1; a < _anchors.Count; a++)
            {
                var ((ia, ja), (ib, jb)) = (_anchors[a - 1], _anchors[a]);
                WarpPath(ia, ja, ib, jb, (ib - ia + 1) * (jb - ja + 1) > SmallWindow ? OffsetPathCost(ia, ja, ib, jb) : Infinity);
            }
            return true;
        }

        /// <summary>Per student token from the recorded path: the teacher's list, a merged target or one-hot (see the class remarks).</summary>
        public SparseTargets BuildTargets(AlignmentOptions options)
        {
            var starts = new int[_m + 1];
            var kinds = new TargetKind[_m];
            _targetIds.Clear();
            _targetProbabilities.Clear();
            for (var j = 0; j < _m; j++)
            {
                starts[j] = _targetIds.Count;
                var kind = TargetKind.OneHot;
                if (_mapCount[j] == 1 && SameString(_teacher.TokenNumber(_firstTeacher[j]), j))
                {
                    AddTeacherList(_firstTeacher[j]);
                    kind = TargetKind.Teacher;
                }
                else if (options.Merge && _mapCount[j] >= 2 && IsWholeTeacherTokens(j))
                {
                    AddMerged(j);
                    kind = TargetKind.Merged;
                }
                else
                {
                    _targetIds.Add(_ids[j]);
                    _targetProbabilities.Add(1.0);
                }
                if (options.Renormalize && kind != TargetKind.OneHot) Renormalize(starts[j]);
                kinds[j] = kind;
            }
            starts[_m] = _targetIds.Count;
            return new SparseTargets(starts, [.. _targetIds], [.. _targetProbabilities], kinds);
        }

        /// <summary>Whether teacher token <paramref name="number"/> with spaces as <c>▁</c> is student token <paramref name="j"/>'s piece.</summary>
        private bool SameString(int number, int j)
        {
            // An unknown token's piece is its text, which no vocabulary piece equals: compare the strings.
            if (_ids[j] == _unkId) return _teacher.Vocabulary[number].Replace(' ', StudentPieces.SentencePieceSpace) == _pieces[j];
            var translated = _lookup.StudentId(number);
            return translated == _ids[j] || (translated >= 0 && _lookup.Student.GetPiece(translated) == _pieces[j]);
        }

        private void AddTeacherList(int position)
        {
            var numbers = _teacher.CandidateNumbers(position);
            var probabilities = _teacher.CandidateProbabilities(position);
            var start = _targetIds.Count;
            for (var k = 0; k < numbers.Length; k++)
            {
                var id = _lookup.StudentId(numbers[k]);
                if (id >= 0 && IndexOf(start, id) < 0)
                {
                    _targetIds.Add(id);
                    _targetProbabilities.Add(probabilities[k]);
                }
            }
        }

        /// <summary>Student token j is teacher tokens first … last, each mapped to j alone, whose strings (spaces → ▁) make up its piece.</summary>
        private bool IsWholeTeacherTokens(int j)
        {
            var piece = _pieces[j].AsSpan();
            var offset = 0;
            for (int i = _firstTeacher[j], last = i + _mapCount[j]; i < last; i++)
            {
                if (_teacherCount[i] != 1) return false;
                var token = _teacher.Vocabulary[_teacher.TokenNumber(i)];
                if (offset + token.Length > piece.Length) return false;
                for (var c = 0; c < token.Length; c++)
                    if ((token[c] == ' ' ? StudentPieces.SentencePieceSpace : token[c]) != piece[offset + c]) return false;
                offset += token.Length;
            }
            return offset == piece.Length;
        }

        private void AddMerged(int j)
        {
            var first = _firstTeacher[j];
            var whole = 1.0;
            for (var i = first; i < first + _mapCount[j]; i++) whole *= _teacher.CandidateProbabilities(i)[0];
            var start = _targetIds.Count;
            _targetIds.Add(_ids[j]);
            _targetProbabilities.Add(whole);
            var numbers = _teacher.CandidateNumbers(first);
            var probabilities = _teacher.CandidateProbabilities(first);
            for (var k = 1; k < numbers.Length; k++)
            {
                if (numbers[k] == numbers[0]) continue; // the sampled token again: already inside the product
                var id = _lookup.StudentId(numbers[k]);
                if (id < 0) continue;
                var at = IndexOf(start, id);
                if (at == start) _targetProbabilities[at] += probabilities[k]; // the whole piece as one teacher token
                else if (at < 0)
                {
                    _targetIds.Add(id);
                    _targetProbabilities.Add(probabilities[k]);
                }
            }
        }

        private void Renormalize(int start)
        {
            var sum = 0.0;
            for (var k = start; k < _targetProbabilities.Count; k++) sum += _targetProbabilities[k];
            if (sum <= 0) return;
            for (var k = start; k < _targetProbabilities.Count; k++) _targetProbabilities[k] /= sum;
        }

        private int IndexOf(int start, int id)
        {
            for (var k = start; k < _targetIds.Count; k++)
                if (_targetIds[k] == id) return k;
            return -1;
        }

        private static int CodePointLength(string s)
        {
            var length = s.Length;
            foreach (var c in s)
                if (char.IsLowSurrogate(c)) length--;
            return length;
        }

        private static void Ensure<T>(ref T[] buffer, int length)
        {
            if (buffer.Length < length) buffer = new T[Math.Max(length, buffer.Length * 2)];
        }
    }
}
