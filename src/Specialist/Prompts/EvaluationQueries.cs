using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Prompts;

/// <summary>Which prompt a math problem is asked with.</summary>
public enum MathPromptStyle
{
    /// <summary>The student's 4-shot prompt (<see cref="EvaluationPrompts.FewShotMath"/>).</summary>
    FourShot,
    /// <summary>Zero-shot CoT (<see cref="EvaluationPrompts.ZeroShotMath"/>).</summary>
    ZeroShot,
    /// <summary>The teacher's 8-shot annotation prompt (<see cref="EvaluationPrompts.Teacher"/>).</summary>
    Teacher,
}

/// <summary>
/// Renders the query for any problem of any set: BBH problems (ids <c>bbh/&lt;task&gt;/&lt;i&gt;</c>) with their task's
/// 3-shot prompt in <see cref="BbhMode"/>, every other problem with the math prompt of <see cref="MathPromptStyle"/>.
/// Prompt files are read once per instance.
/// </summary>
public sealed class EvaluationQueries(string dataRoot, MathPromptStyle mathStyle, BbhMode bbhMode = BbhMode.Cot)
{
    private readonly Dictionary<string, BbhPrompt> _bbhPrompts = new(StringComparer.Ordinal);
    private string? _mathPrompt;

    /// <summary>The prompt names the command line accepts: <c>4shot</c>, <c>zeroshot</c>, <c>teacher</c>.</summary>
    public static MathPromptStyle ParseStyle(string name) => name switch
    {
        "4shot" => MathPromptStyle.FourShot,
        "zeroshot" => MathPromptStyle.ZeroShot,
        "teacher" => MathPromptStyle.Teacher,
        _ => throw new SpecialistException($"unknown prompt '{name}': use 4shot, zeroshot or teacher"),
    };

    /// <summary>The query text for <paramref name="problem"/>.</summary>
    public string Render(Problem problem)
    {
        if (problem.Id.StartsWith("bbh/", StringComparison.Ordinal))
        {
            var task = problem.Id.Split('/')[1];
            if (!_bbhPrompts.TryGetValue(task, out var prompt)) _bbhPrompts[task] = prompt = BbhData.LoadPrompt(dataRoot, task);
            return EvaluationPrompts.Bbh(prompt, problem.Question, bbhMode);
        }
        return mathStyle switch
        {
            MathPromptStyle.ZeroShot => EvaluationPrompts.ZeroShotMath(problem.Question),
            MathPromptStyle.FourShot => EvaluationPrompts.FewShotMath(_mathPrompt ??= EvaluationPrompts.ReadPromptFile(dataRoot, EvaluationPrompts.FewShotMathFile), problem.Question),
            _ => EvaluationPrompts.Teacher(_mathPrompt ??= EvaluationPrompts.ReadPromptFile(dataRoot, EvaluationPrompts.TeacherFile), problem.Question),
        };
    }
}
