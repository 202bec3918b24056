using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

public sealed class AnnotationJobTests
{
    private static readonly Problem[] Problems =
    [
        new("synth-math/0", "Ann has 3 apples and buys 4 more. How many apples does she have?", GoldAnswer.FromNumber(7)),
        new("synth-math/1", "Bo reads 5 pages a day for 2 days. How many pages does he read?", GoldAnswer.FromNumber(10)),
    ];

    private static IReadOnlyList<TeacherRequest> Plan(string template)
    {
        var config = new AnnotationConfig("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 0.5, 1, 64, 5, ["\n\n"]);
        return new AnnotationJob("mix-train", Problems, template, config, Samples: 3, SamplesPerRequest: 2, Price: null).Plan(new());
    }

    [Fact]
    public void A_template_with_a_question_placeholder_is_the_query_with_the_question_in_its_place()
    {
        var requests = Plan("Q: {question}\nLet's think step by step");

        Assert.Equal(4, requests.Count);
        Assert.All(requests.Take(2), r => Assert.Equal("Q: " + Problems[0].Question + "\nLet's think step by step", r.Prompt));
        Assert.All(requests.Skip(2), r => Assert.Equal("Q: " + Problems[1].Question + "\nLet's think step by step", r.Prompt));
    }

    [Fact]
    public void A_template_without_the_placeholder_is_a_few_shot_prompt_the_question_follows()
    {
        const string fewShot = "Question: 1 + 1?\nLet's think step by step\n1 + 1 = 2\nThe answer is 2\n";

        var requests = Plan(fewShot);

        Assert.Equal(EvaluationPrompts.Teacher(fewShot, Problems[0].Question), requests[0].Prompt);
        Assert.Equal(fewShot + "\nQuestion: " + Problems[1].Question + "\nLet's think step by step", requests[^1].Prompt);
    }
}
