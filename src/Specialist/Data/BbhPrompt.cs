namespace Specialist.Data;

/// <summary>One worked example of a BBH 3-shot CoT prompt.</summary>
/// <param name="Input">The text after <c>Q: </c> (may span lines, e.g. options).</param>
/// <param name="Rationale">The reasoning after <c>A: Let's think step by step.</c>, up to and including "So the answer is X."</param>
/// <param name="Answer">X of "So the answer is X."</param>
public sealed record BbhExemplar(string Input, string Rationale, string Answer);

/// <summary>A BBH task's 3-shot CoT prompt (cot-prompts/&lt;task&gt;.txt), parsed.</summary>
/// <param name="Task">Task name, e.g. <c>navigate</c>.</param>
/// <param name="Text">The prompt text exactly as used: everything after the <c>-----</c> line, trailing newlines trimmed.</param>
/// <param name="Description">The task description line(s) before the first <c>Q:</c>.</param>
/// <param name="Exemplars">The three worked examples.</param>
public sealed record BbhPrompt(string Task, string Text, string Description, IReadOnlyList<BbhExemplar> Exemplars);
