using Specialist.Tokenization;

namespace Specialist.Alignment;

/// <summary>
/// The distinct teacher token strings of a corpus, each with a number. <see cref="TeacherSequence"/>s refer to tokens
/// by number, so aligning looks a string up in the student vocabulary once per distinct string rather than once per
/// occurrence (a GSM8K chain of thought has ~150 positions × 6 candidates, drawn from a few thousand strings).
/// Interning is thread-safe, and reading never blocks.
/// </summary>
public sealed class TeacherVocabulary
{
    private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<StudentPieces> _students = [];
    private string[] _tokens = new string[1024];
    private int _count;

    /// <summary>How many distinct strings have been interned.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The number of <paramref name="token"/>, adding it if it is new.</summary>
    public int Intern(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (_lock)
        {
            if (_numbers.TryGetValue(token, out var number)) return number;
            number = _count;
            if (number == _tokens.Length)
            {
                // Readers may hold the old array: copy, then publish, so every published number stays readable.
                var grown = new string[number * 2];
                Array.Copy(_tokens, grown, number);
                Volatile.Write(ref _tokens, grown);
            }
            _tokens[number] = token;
            _numbers.Add(token, number);
            Volatile.Write(ref _count, number + 1);
            return number;
        }
    }

    /// <summary>The string of token <paramref name="number"/>.</summary>
    public string this[int number] =>
        (uint)number < (uint)Count ? Volatile.Read(ref _tokens)[number] : throw new ArgumentOutOfRangeException(nameof(number));

    /// <summary>The translation of this vocabulary's strings into <paramref name="student"/>'s, kept for reuse.</summary>
    internal StudentPieces For(ITokenizer student)
    {
        lock (_lock)
        {
            foreach (var s in _students)
                if (ReferenceEquals(s.Student, student)) return s;
            var created = new StudentPieces(this, student);
            _students.Add(created);
            return created;
        }
    }
}

/// <summary>
/// What each teacher string is on the student side, computed on first use and kept: the student id of the string with
/// spaces written as <c>▁</c> (the paper's lookup; -1 when the student has no such piece), and the string without
/// spaces (the left operand of the paper's edit-distance cost). Concurrent first uses compute equal values, so races
/// are harmless.
/// </summary>
internal sealed class StudentPieces
{
    private const int NotYet = -2;
    private readonly TeacherVocabulary _vocabulary;
    private readonly Lock _growLock = new();
    private int[] _ids = [];
    private string?[] _contents = [];

    public StudentPieces(TeacherVocabulary vocabulary, ITokenizer student)
    {
        _vocabulary = vocabulary;
        Student = student;
    }

    public ITokenizer Student { get; }

    /// <summary>The student id of teacher token <paramref name="number"/> with spaces as <c>▁</c>, or -1.</summary>
    public int StudentId(int number)
    {
        var ids = Volatile.Read(ref _ids);
        if (number >= ids.Length) ids = Grow(number);
        var id = ids[number];
        if (id != NotYet) return id;
        id = Student.TryGetId(_vocabulary[number].Replace(' ', SentencePieceSpace), out var found) ? found : -1;
        ids[number] = id;
        return id;
    }

    /// <summary>Teacher token <paramref name="number"/> with its spaces removed.</summary>
    public string Content(int number)
    {
        var contents = Volatile.Read(ref _contents);
        if (number >= contents.Length) contents = GrowContents(number);
        return contents[number] ??= _vocabulary[number].Replace(" ", "", StringComparison.Ordinal);
    }

    internal const char SentencePieceSpace = '\u2581';

    private int[] Grow(int number)
    {
        lock (_growLock)
        {
            var ids = _ids;
            if (number < ids.Length) return ids;
            var grown = new int[Math.Max(number + 1, Math.Max(_vocabulary.Count, ids.Length * 2))];
            Array.Fill(grown, NotYet);
            Array.Copy(ids, grown, ids.Length);
            Volatile.Write(ref _ids, grown);
            return grown;
        }
    }

    private string?[] GrowContents(int number)
    {
        lock (_growLock)
        {
            var contents = _contents;
            if (number < contents.Length) return contents;
            var grown = new string?[Math.Max(number + 1, Math.Max(_vocabulary.Count, contents.Length * 2))];
            Array.Copy(contents, grown, contents.Length);
            Volatile.Write(ref _contents, grown);
            return grown;
        }
    }
}
