using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Tests.Prompts;

public class TrainingPromptsTests
{
    private static readonly IReadOnlyList<Problem> Train = ProblemSets.Load("gsm8k-train", new DataOptions(TestPaths.DataRoot));

    private const string Question = "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?";

    [Fact]
    public void Zero_shot_answer_only()
    {
        Assert.Equal("Q: " + Question + " A:", TrainingPrompts.Input(TrainingFormat.ZeroShotAnswerOnly, Train[2].Question));
        Assert.Equal("The answer is 5", TrainingPrompts.Target(TrainingFormat.ZeroShotAnswerOnly, Train[2].Answer));
    }

    [Fact]
    public void Zero_shot_cot_targets_the_trimmed_teacher_cot()
    {
        Assert.Equal("Q: " + Question + "\nLet's think step by step", TrainingPrompts.Input(TrainingFormat.ZeroShotCot, Train[2].Question));
        Assert.Equal("Betty has 100 / 2 = $50.\nThe answer is 5",
            TrainingPrompts.Target(TrainingFormat.ZeroShotCot, Train[2].Answer, "\nBetty has 100 / 2 = $50.\nThe answer is 5\n\n"));
    }

    [Fact]
    public void In_context_answer_only()
    {
        var input = TrainingPrompts.Input(TrainingFormat.InContextAnswerOnly, Train[2].Question, [Train[0], Train[1]]);
        Assert.Equal(
            "Q: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?\nA: The answer is 72\n\n"
            + "Q: Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?\nA: The answer is 10\n\n"
            + "Q: " + Question + "\nA:",
            input);
        Assert.Equal("The answer is 5", TrainingPrompts.Target(TrainingFormat.InContextAnswerOnly, Train[2].Answer, "ignored"));
    }

    [Fact]
    public void In_context_cot_uses_gold_rationales_without_calculator_marks()
    {
        var input = TrainingPrompts.Input(TrainingFormat.InContextCot, Train[2].Question, [Train[0], Train[1]]);
        // The same string as the authors' sample_in_context_example(..., is_cot=True) + "Q: " + q + "\nLet's think step by step".
        Assert.Equal(
            "Q: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?\nLet's think step by step\n"
            + "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\nThe answer is 72\n\n"
            + "Q: Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?\nLet's think step by step\n"
            + "Weng earns 12/60 = $0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $10.\nThe answer is 10\n\n"
            + "Q: " + Question + "\nLet's think step by step",
            input);
    }

    [Fact]
    public void The_answer_target_uses_the_gold_text() =>
        Assert.Equal("The answer is 5/2", TrainingPrompts.AnswerOnlyTarget(GoldAnswer.FromNumber(2.5, "5/2")));

    [Fact]
    public void Misused_formats_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => TrainingPrompts.Input(TrainingFormat.InContextCot, "q"));
        Assert.Throws<ArgumentException>(() => TrainingPrompts.Input(TrainingFormat.ZeroShotCot, "q", [Train[0]]));
        Assert.Throws<ArgumentException>(() => TrainingPrompts.Target(TrainingFormat.InContextCot, Train[0].Answer));
        var noRationale = new Problem("x/1", "q", GoldAnswer.FromNumber(1));
        var e = Assert.Throws<SpecialistException>(() => TrainingPrompts.Input(TrainingFormat.InContextCot, "q", [noRationale]));
        Assert.Contains("'x/1'", e.Message);
        // Answer-only demos need no rationale.
        Assert.Equal("Q: q\nA: The answer is 1\n\nQ: r\nA:", TrainingPrompts.Input(TrainingFormat.InContextAnswerOnly, "r", [noRationale]));
    }

    [Fact]
    public void Format_properties()
    {
        Assert.Equal([false, true, false, true], Enum.GetValues<TrainingFormat>().Select(TrainingPrompts.IsCot));
        Assert.Equal([false, false, true, true], Enum.GetValues<TrainingFormat>().Select(TrainingPrompts.IsInContext));
    }
}
