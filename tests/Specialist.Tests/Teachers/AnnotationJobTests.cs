using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
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

    private static IReadOnlyList<TeacherRequest> Plan(string template, long? seed = null)
    {
        var config = new AnnotationConfig("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 0.5, 1, 64, 5, ["\n\n"], seed);
        return new AnnotationJob("mix-train", Problems, template, config, Samples: 3, SamplesPerRequest: 2, Price: null).Plan(new());
    }

    [Fact]
    public void A_seed_gives_every_request_its_own_seed_and_is_part_of_what_identifies_it()
    {
        const string template = "Q: {question}\nLet's think step by step";
        var config = new AnnotationConfig("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 0.5, 1, 64, 5, ["\n\n"], 7);
        var unseeded = Plan(template);
        var seeded = Plan(template, seed: 7);

        // Requests for samples 0-1 and 2 of each question: the seed is the stable hash of (seed, question, first sample).
        Assert.Equal([("synth-math/0", 0), ("synth-math/0", 2), ("synth-math/1", 0), ("synth-math/1", 2)], seeded.Select(r => (r.QuestionId, r.FirstSample)));
        Assert.Equal(seeded.Select(r => (long?)AnnotationConfig.RequestSeed(7, r.QuestionId, r.FirstSample)), seeded.Select(r => r.Seed));
        Assert.Equal(4, seeded.Select(r => r.Seed).Distinct().Count());
        Assert.All(seeded, r => Assert.InRange(r.Seed!.Value, 0, (1L << 53) - 1));
        Assert.Equal(seeded.Select(r => r.Seed), Plan(template, seed: 7).Select(r => r.Seed));
        Assert.NotEqual(seeded.Select(r => r.Seed), Plan(template, seed: 8).Select(r => r.Seed));
        Assert.All(seeded, r => Assert.Equal(r.Seed, r.Body(config)["seed"]!.GetValue<long>()));

        // Without a seed the body sends none and the keys stay those of stores made before seeds existed.
        Assert.All(unseeded, r => Assert.Null(r.Seed));
        Assert.All(unseeded, r => Assert.False(r.Body(config with { Seed = null }).ContainsKey("seed")));
        var before = new JsonObject
        {
            ["v"] = 1,
            ["config"] = new JsonObject
            {
                ["teacher"] = "teacher-x", ["api"] = "completions", ["prompt_hash"] = AnnotationConfig.HashPrompt(template), ["temperature"] = 0.5,
                ["top_p"] = 1.0, ["max_tokens"] = 64, ["top_logprobs"] = 5, ["stop"] = new JsonArray("\n\n"),
            },
            ["prompt"] = unseeded[0].Prompt, ["question_id"] = "synth-math/0", ["first_sample"] = 0, ["n"] = 2,
        };
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(before.ToJsonString()))), unseeded[0].Key);
        Assert.Empty(unseeded.Select(r => r.Key).Intersect(seeded.Select(r => r.Key)));

        // The seed is recorded with the settings, and a store's settings name it when they differ.
        Assert.Equal(7, AnnotationConfig.FromJson(config.ToJson(), "test").Seed);
        Assert.Null(AnnotationConfig.FromJson((config with { Seed = null }).ToJson(), "test").Seed);
        Assert.Equal(["seed: none → 7"], (config with { Seed = null }).Differences(config));
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
