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
        return new AnnotationJob("mix-train", Problems, template, config, Samples: 3, SamplesPerRequest: 2, Price: null).Plan(new()).SelectMany(c => c.Requests).ToList();
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

    [Fact]
    public void Questions_go_in_fixed_groups_that_are_sent_whole_with_the_groups_seed()
    {
        const string template = "Q: {question}\nLet's think step by step";
        var config = new AnnotationConfig("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(template), 0.5, 1, 64, 5, ["\n\n"], 7);
        Problem[] five = [.. Enumerable.Range(0, 5).Select(i => new Problem($"q/{i}", $"What is {i} + 1?", GoldAnswer.FromNumber(i + 1)))];
        var job = new AnnotationJob("mix-train", five, template, config, Samples: 3, SamplesPerRequest: 2, Price: null) { QuestionsPerRequest = 2 };

        // Groups q/0-1, q/2-3, q/4; each sends samples 0-1 and then 2 of all its questions.
        var calls = job.Plan(new());
        Assert.Equal([["q/0", "q/1"], ["q/0", "q/1"], ["q/2", "q/3"], ["q/2", "q/3"], ["q/4"], ["q/4"]], calls.Select(c => c.Requests.Select(r => r.QuestionId).ToArray()));
        Assert.Equal([0, 2, 0, 2, 0, 2], calls.Select(c => c.Requests[0].FirstSample));
        Assert.Equal([4, 2, 4, 2, 2, 1], calls.Select(c => c.Choices));
        var body = calls[0].Body(config);
        Assert.Equal(["Q: What is 0 + 1?\nLet's think step by step", "Q: What is 1 + 1?\nLet's think step by step"],
            body["prompt"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(2, body["n"]!.GetValue<int>());
        // The group shares its first question's seed; a question's key names its group, so other groupings are other work.
        Assert.Equal(AnnotationConfig.RequestSeed(7, "q/0", 0), body["seed"]!.GetValue<long>());
        Assert.All(calls[0].Requests, r => Assert.Equal(AnnotationConfig.RequestSeed(7, "q/0", 0), r.Seed));
        var alone = new AnnotationJob("mix-train", five, template, config, 3, 2, null).Plan(new());
        // (A group of one is a request of its own, as without groups.)
        Assert.Equal(calls.Skip(4).SelectMany(c => c.Requests).Select(r => r.Key),
            calls.SelectMany(c => c.Requests).Select(r => r.Key).Intersect(alone.SelectMany(c => c.Requests).Select(r => r.Key)));
        Assert.Equal("q/4", Assert.Single(calls[4].Requests).QuestionId);
        Assert.Equal(AnnotationConfig.RequestSeed(7, "q/4", 0), calls[4].Requests[0].Seed);

        // After an interrupted run stored q/2 only, its group is sent whole again: the same calls, with the same keys.
        var resumed = job.Plan(new() { ["q/0"] = [0, 1, 2], ["q/1"] = [0, 1, 2], ["q/2"] = [0, 1, 2], ["q/4"] = [0, 1] });
        Assert.Equal(calls.Skip(2).Take(2).Append(calls[5]).SelectMany(c => c.Requests).Select(r => r.Key), resumed.SelectMany(c => c.Requests).Select(r => r.Key));

        // A completion is shared out in choice order, with the tokens billed split between the questions.
        var samples = Enumerable.Range(0, 4).Select(i => new TeacherSample($"s{i}", "stop", null)).ToList();
        var share = calls[0].Share(new TeacherCompletion(samples, PromptTokens: 21, CompletionTokens: 40), 1);
        Assert.Equal(["s2", "s3"], share.Samples.Select(x => x.Text));
        Assert.Equal((10, 20), (share.PromptTokens, share.CompletionTokens));
        Assert.Equal(11, calls[0].Share(new TeacherCompletion(samples, 21, 40), 0).PromptTokens);

        // Chat takes one prompt per request.
        var chat = job with { Config = config with { Api = TeacherApi.Chat } };
        Assert.Contains("chat API takes one prompt per request", Assert.Throws<SpecialistException>(() => chat.Plan(new())).Message);
    }
}
