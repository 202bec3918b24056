using Specialist.Answers;
using Specialist.Data;
using Specialist.Prompts;

namespace Specialist.Tests.Prompts;

public class DemoSamplerTests
{
    private static List<Problem> Pool(int n) => Enumerable.Range(0, n).Select(i => new Problem($"p/{i}", $"q{i}", GoldAnswer.FromNumber(i))).ToList();

    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // Reference outputs of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        var random = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, random.NextUInt64());
    }

    [Fact]
    public void NextBelow_is_pinned_and_in_range()
    {
        var random = new SplitMix64(42);
        Assert.Equal([7, 1, 2, 3, 0, 8, 2, 8, 3, 6], Enumerable.Range(0, 10).Select(_ => random.NextBelow(10)));
        var counts = new int[7];
        for (var i = 0; i < 70_000; i++) counts[random.NextBelow(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void The_same_seed_draws_the_same_demos()
    {
        var pool = Pool(100);
        var a = new DemoSampler(pool, 7);
        var b = new DemoSampler(pool, 7);
        var c = new DemoSampler(pool, 8);
        var drawsA = Enumerable.Range(0, 20).Select(_ => string.Join(",", a.Draw(4).Select(p => p.Id))).ToList();
        var drawsB = Enumerable.Range(0, 20).Select(_ => string.Join(",", b.Draw(4).Select(p => p.Id))).ToList();
        var drawsC = Enumerable.Range(0, 20).Select(_ => string.Join(",", c.Draw(4).Select(p => p.Id))).ToList();
        Assert.Equal(drawsA, drawsB);
        Assert.NotEqual(drawsA, drawsC);
        Assert.True(drawsA.Distinct().Count() > 15, "demos are re-drawn on each call");
    }

    [Fact]
    public void Draws_are_distinct_and_never_the_question_itself()
    {
        var pool = Pool(6);
        var sampler = new DemoSampler(pool, 1);
        var seen = new HashSet<string>();
        for (var i = 0; i < 300; i++)
        {
            var demos = sampler.Draw(5, questionId: "p/3");
            Assert.Equal(5, demos.Select(d => d.Id).Distinct().Count());
            Assert.DoesNotContain(demos, d => d.Id == "p/3");
            foreach (var d in demos) seen.Add(d.Id);
        }
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public void Too_few_problems_is_an_error()
    {
        var sampler = new DemoSampler(Pool(4), 1);
        Assert.Throws<SpecialistException>(() => sampler.Draw(4, questionId: "p/0"));
        Assert.Equal(4, sampler.Draw(4).Count);
    }

    [Fact]
    public void Demos_come_from_the_question_s_task()
    {
        var pool = Enumerable.Range(0, 30).Select(i => new Problem($"synth-bbh/{(i % 3 == 0 ? "navigate" : "word_sorting")}/{i}", $"q{i}", GoldAnswer.FromText("Yes")))
            .Concat(Pool(20)).ToList();
        var sampler = new DemoSampler(pool, 3);
        for (var i = 0; i < 200; i++)
        {
            var demos = sampler.Draw(4, questionId: "synth-bbh/navigate/9");
            Assert.All(demos, d => Assert.StartsWith("synth-bbh/navigate/", d.Id));
            Assert.DoesNotContain(demos, d => d.Id == "synth-bbh/navigate/9");
            Assert.All(sampler.Draw(4, questionId: "p/2"), d => Assert.Matches(@"^p/\d+$", d.Id));
        }
        Assert.Equal("synth-bbh/navigate", DemoSampler.TaskOf("synth-bbh/navigate/3"));
        Assert.Equal("gsm8k-train", DemoSampler.TaskOf("gsm8k-train/17"));
        // navigate holds 10 problems: 9 besides the question.
        var e = Assert.Throws<SpecialistException>(() => sampler.Draw(10, questionId: "synth-bbh/navigate/0"));
        Assert.Contains("synth-bbh/navigate", e.Message);
    }

    [Fact]
    public void A_pool_of_one_task_draws_as_rejection_sampling_over_the_whole_pool()
    {
        // The draws of a GSM8K pool (one task) must not change: uniform indices over the whole pool, repeats and the
        // question itself rejected, one SplitMix64 stream.
        var pool = Pool(50);
        var sampler = new DemoSampler(pool, 11);
        var random = new SplitMix64(11);
        for (var call = 0; call < 50; call++)
        {
            var question = $"p/{call}";
            var expected = new List<int>();
            while (expected.Count < 4)
            {
                var index = random.NextBelow(pool.Count);
                if (!expected.Contains(index) && pool[index].Id != question) expected.Add(index);
            }
            Assert.Equal(expected.Select(i => pool[i].Id), sampler.Draw(4, questionId: question).Select(p => p.Id));
        }
    }
}
