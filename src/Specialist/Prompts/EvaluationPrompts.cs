using Specialist.Answers;
using Specialist.Data;

namespace Specialist.Prompts;

/// <summary>
/// The prompts the paper evaluates with and annotates with (METHOD.md §1 and §6), rendered byte for byte as the
/// authors' code concatenates them. Prompt files are read as they are, trailing newline included.
/// </summary>
public static class EvaluationPrompts
{
    /// <summary>The student's 4-shot math prompt file.</summary>
    public const string FewShotMathFile = "prompt_simple_4_cases.txt";

    /// <summary>The teacher's 8-shot (complexity-based) annotation prompt file.</summary>
    public const string TeacherFile = "prompt_complex.txt";

    /// <summary>Reads <c>&lt;dataRoot&gt;/prompts/&lt;fileName&gt;</c> exactly (UTF-8, line endings untouched).</summary>
    public static string ReadPromptFile(string dataRoot, string fileName)
    {
        var path = Path.Combine(dataRoot, "prompts", fileName);
        return File.Exists(path) ? File.ReadAllText(path) : throw new SpecialistException($"prompt file not found: {path}");
    }

    /// <summary>4-shot math: <c>{prompt}\nQ: {q}\nLet's think step by step\n</c>, prompt = <see cref="FewShotMathFile"/>'s text.</summary>
    public static string FewShotMath(string prompt, string question) =>
        prompt + "\nQ: " + question + "\n" + TrainingPrompts.ThinkStepByStep + "\n";

    /// <summary>Zero-shot math: <c>Q: {q}\nLet's think step by step\n</c>.</summary>
    public static string ZeroShotMath(string question) => "Q: " + question + "\n" + TrainingPrompts.ThinkStepByStep + "\n";

    /// <summary>The teacher's query: <c>{prompt}\nQuestion: {q}\nLet's think step by step</c>, prompt = <see cref="TeacherFile"/>'s text.</summary>
    public static string Teacher(string prompt, string question) => prompt + "\nQuestion: " + question + "\n" + TrainingPrompts.ThinkStepByStep;

    /// <summary>A BBH query in <paramref name="mode"/>: <see cref="BbhCot"/> or <see cref="BbhAnswerOnly"/>.</summary>
    public static string Bbh(BbhPrompt prompt, string input, BbhMode mode) =>
        mode == BbhMode.Cot ? BbhCot(prompt, input) : BbhAnswerOnly(prompt, input);

    /// <summary>BBH chain of thought: <c>{prompt text}\n\nQ: {input}\nA: Let's think step by step.\n</c>.</summary>
    public static string BbhCot(BbhPrompt prompt, string input) =>
        prompt.Text + "\n\nQ: " + input + "\nA: Let's think step by step.\n";

    /// <summary>
    /// BBH answer-only: the task description, then the same three exemplars with only their answers
    /// (<c>Q: {input}\nA: {answer}</c>), blank lines between, then <c>\n\nQ: {input}\nA:</c>.
    /// </summary>
    /// <remarks>
    /// This is BBH's official answer-only layout (the CoT exemplars without their reasoning). The authors' own
    /// answer-only variant cut the CoT prompt at its first "A:", keeping one question and an answer after the other
    /// two, and ended the query with "A: the answer is "; we do not reproduce that.
    /// </remarks>
    public static string BbhAnswerOnly(BbhPrompt prompt, string input) =>
        prompt.Description + "\n\n"
        + string.Join("\n\n", prompt.Exemplars.Select(e => "Q: " + e.Input + "\nA: " + e.Answer))
        + "\n\nQ: " + input + "\nA:";
}
