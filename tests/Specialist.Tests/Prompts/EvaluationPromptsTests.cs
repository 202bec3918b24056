using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Tests.Prompts;

public class EvaluationPromptsTests
{
    private const string Question = "Tom has 3 apples and buys 2 more. How many apples does he have?";

    [Fact]
    public void Four_shot_math_appends_the_question_after_the_file_and_a_blank_line()
    {
        var prompt = EvaluationPrompts.ReadPromptFile(TestPaths.DataRoot, EvaluationPrompts.FewShotMathFile);
        var query = EvaluationPrompts.FewShotMath(prompt, Question);
        Assert.StartsWith("Q: Ivan has a bird feeder in his yard that holds two cups of birdseed.", query);
        // The file ends with one newline, so "\nQ: " leaves a blank line as between its own examples.
        Assert.EndsWith(
            "So, Lexi will have to run 12 (from 3 miles) + 1 (from 1/4 mile) = 13 complete laps.\nThe answer is 13\n\nQ: " + Question + "\nLet's think step by step\n",
            query);
        Assert.Equal(prompt.Length + "\nQ: ".Length + Question.Length + "\nLet's think step by step\n".Length, query.Length);
    }

    [Fact]
    public void Zero_shot_math() =>
        Assert.Equal("Q: " + Question + "\nLet's think step by step\n", EvaluationPrompts.ZeroShotMath(Question));

    [Fact]
    public void Teacher_query_uses_the_complex_prompt()
    {
        var prompt = EvaluationPrompts.ReadPromptFile(TestPaths.DataRoot, EvaluationPrompts.TeacherFile);
        var query = EvaluationPrompts.Teacher(prompt, Question);
        Assert.StartsWith("Question: Angelo and Melanie want to plan how many hours over the next week they should study together", query);
        Assert.EndsWith(
            "The percentage of the school that do not like to play basketball is 520/1000 * 100 = 52\nThe answer is 52\n\nQuestion: " + Question + "\nLet's think step by step",
            query);
    }

    [Fact]
    public void A_missing_prompt_file_is_a_user_error()
    {
        var e = Assert.Throws<SpecialistException>(() => EvaluationPrompts.ReadPromptFile(TestPaths.NewTempDir(), EvaluationPrompts.TeacherFile));
        Assert.Contains(Path.Combine("prompts", "prompt_complex.txt"), e.Message);
    }

    private static readonly BbhPrompt Navigate = BbhData.LoadPrompt(TestPaths.DataRoot, "navigate");

    private const string NavigateInput =
        "If you follow these instructions, do you return to the starting point? Always face forward. Take 1 step backward. Take 9 steps left. Take 2 steps backward. Take 6 steps forward. Take 4 steps forward. Take 4 steps backward. Take 3 steps right.\nOptions:\n- Yes\n- No";

    [Fact]
    public void Bbh_cot_appends_the_question_to_the_prompt_text()
    {
        var input = BbhData.LoadTask(TestPaths.DataRoot, "navigate")[0].Question;
        Assert.Equal(NavigateInput, input);
        var query = EvaluationPrompts.Bbh(Navigate, input, BbhMode.Cot);
        Assert.StartsWith("Given a series of navigation instructions, determine whether one would end up back at the starting point.\n\nQ: If you follow", query);
        Assert.EndsWith(
            "(4) Take 7 steps right: (0, 7), facing the positive y-axis.\nSince (0, 0) is (0, 0), we are indeed where we started. So the answer is Yes.\n\nQ: "
            + NavigateInput + "\nA: Let's think step by step.\n",
            query);
        Assert.DoesNotContain("canary", query);
    }

    [Fact]
    public void Bbh_answer_only_keeps_the_exemplars_answers_only()
    {
        const string options = "\nOptions:\n- Yes\n- No";
        Assert.Equal(
            "Given a series of navigation instructions, determine whether one would end up back at the starting point.\n\n"
            + "Q: If you follow these instructions, do you return to the starting point? Turn left. Turn around. Turn left. Take 7 steps. Take 2 steps. Take 4 steps. Take 8 steps." + options + "\nA: No\n\n"
            + "Q: If you follow these instructions, do you return to the starting point? Turn around. Take 1 step. Take 6 steps. Turn around. Take 6 steps. Take 9 steps. Take 1 step." + options + "\nA: No\n\n"
            + "Q: If you follow these instructions, do you return to the starting point? Always face forward. Take 2 steps right. Take 9 steps left. Take 7 steps right." + options + "\nA: Yes\n\n"
            + "Q: " + NavigateInput + "\nA:",
            EvaluationPrompts.Bbh(Navigate, NavigateInput, BbhMode.AnswerOnly));
    }
}
