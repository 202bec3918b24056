using Specialist.Data;

namespace Specialist.Prompts;

/// <summary>
/// Draws in-context demonstrations from a pool of problems (e.g. GSM8K train), reproducibly from a seed. Each call
/// draws afresh ("demos are re-drawn per example"), without repeats, never the question being asked itself, and
/// only problems of the question's task (<see cref="TaskOf"/>): a navigate question gets navigate demonstrations
/// from a pool that mixes tasks. One generator serves every task, so a pool of one task draws exactly as a pool
/// without tasks would.
/// </summary>
public sealed class DemoSampler
{
    private readonly IReadOnlyList<Problem> _pool;
    private readonly Dictionary<string, List<Problem>> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _idCounts = new(StringComparer.Ordinal);
    private SplitMix64 _random;

    /// <param name="pool">The problems demos come from.</param>
    /// <param name="seed">Fixes the whole sequence of draws.</param>
    public DemoSampler(IReadOnlyList<Problem> pool, ulong seed)
    {
        _pool = pool;
        _random = new SplitMix64(seed);
        foreach (var p in pool)
        {
            _idCounts[p.Id] = _idCounts.GetValueOrDefault(p.Id) + 1;
            var task = TaskOf(p.Id);
            if (!_tasks.TryGetValue(task, out var problems)) _tasks[task] = problems = [];
            problems.Add(p);
        }
    }

    /// <summary>
    /// The task of a problem: its id up to the last <c>/</c> (<c>gsm8k-train/17</c> → <c>gsm8k-train</c>,
    /// <c>synth-bbh/navigate/3</c> → <c>synth-bbh/navigate</c>); ids without one share the task <c>""</c>.
    /// </summary>
    public static string TaskOf(string problemId)
    {
        var slash = problemId.LastIndexOf('/');
        return slash < 0 ? "" : problemId[..slash];
    }

    /// <summary>
    /// Draws <paramref name="count"/> distinct problems in draw order: of <paramref name="questionId"/>'s task and never
    /// <paramref name="questionId"/> itself, or from the whole pool when no question is given.
    /// </summary>
    public IReadOnlyList<Problem> Draw(int count, string? questionId = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var candidates = _pool;
        var from = "";
        if (questionId is not null)
        {
            var task = TaskOf(questionId);
            candidates = _tasks.GetValueOrDefault(task) ?? [];
            from = $" of task '{task}'";
        }
        var available = candidates.Count - (questionId is null ? 0 : _idCounts.GetValueOrDefault(questionId));
        if (count > available)
            throw new SpecialistException($"cannot draw {count} demonstrations from {available} available problems{from}");
        // Rejection: the pool (thousands) dwarfs the draw (4), so a repeat is rare and this is O(count).
        var chosen = new List<int>(count);
        while (chosen.Count < count)
        {
            var index = _random.NextBelow(candidates.Count);
            if (!chosen.Contains(index) && candidates[index].Id != questionId) chosen.Add(index);
        }
        return chosen.Select(i => candidates[i]).ToList();
    }
}
