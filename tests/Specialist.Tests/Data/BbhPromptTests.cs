using Specialist.Data;

namespace Specialist.Tests.Data;

/// <summary>Parsing BBH's 3-shot CoT prompts (bbh/cot-prompts/&lt;task&gt;.txt).</summary>
public class BbhPromptTests
{
    private static readonly string Root = TestPaths.DataRoot;

    public static TheoryData<string> Tasks() => new(BbhData.TaskNames(TestPaths.DataRoot));

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Every_prompt_parses_into_three_exemplars_with_an_answer(string task)
    {
        var prompt = BbhData.LoadPrompt(Root, task);
        Assert.Equal(task, prompt.Task);
        Assert.Equal(3, prompt.Exemplars.Count);
        Assert.NotEmpty(prompt.Description);
        foreach (var exemplar in prompt.Exemplars)
        {
            Assert.NotEmpty(exemplar.Input);
            Assert.NotEmpty(exemplar.Answer);
            Assert.EndsWith($"So the answer is {exemplar.Answer}.", exemplar.Rationale);
            Assert.Contains($"Q: {exemplar.Input}\nA: Let's think step by step.", prompt.Text);
        }

        // Text is the file after the '-----' line, trailing newlines trimmed.
        var raw = File.ReadAllText(Path.Combine(Root, "bbh", "cot-prompts", task + ".txt"));
        var afterDashes = raw[(raw.IndexOf("\n-----\n", StringComparison.Ordinal) + "\n-----\n".Length)..];
        Assert.Equal(afterDashes.TrimEnd('\n'), prompt.Text);
        Assert.StartsWith(prompt.Description, prompt.Text);
        Assert.DoesNotContain("canary", prompt.Text);
    }

    [Fact]
    public void Navigate_first_exemplar_is_parsed_exactly()
    {
        var prompt = BbhData.LoadPrompt(Root, "navigate");
        Assert.Equal("Given a series of navigation instructions, determine whether one would end up back at the starting point.", prompt.Description);
        var first = prompt.Exemplars[0];
        Assert.Equal(
            "If you follow these instructions, do you return to the starting point? Turn left. Turn around. Turn left. Take 7 steps. Take 2 steps. Take 4 steps. Take 8 steps.\nOptions:\n- Yes\n- No",
            first.Input);
        Assert.Equal(
            "We start at the origin (0, 0), facing the positive y-axis.\n" +
            "(1) Turn left: (0, 0), facing the negative x-axis.\n" +
            "(2) Turn around: (0, 0), facing the positive x-axis.\n" +
            "(3) Turn left: (0, 0), facing the positive y-axis.\n" +
            "(4) Take 7 steps: (0, 7), facing the positive y-axis.\n" +
            "(5) Take 2 steps: (0, 9), facing the positive y-axis.\n" +
            "(6) Take 4 steps: (0, 13), facing the positive y-axis.\n" +
            "(7) Take 8 steps: (0, 21), facing the positive y-axis.\n" +
            "Since (0, 21) is not (0, 0), we are not where we started. So the answer is No.",
            first.Rationale);
        Assert.Equal("No", first.Answer);
        Assert.Equal("Yes", prompt.Exemplars[2].Answer);
    }

    [Fact]
    public void A_rationale_on_the_cue_line_and_symbol_answers_are_read()
    {
        var sports = BbhData.LoadPrompt(Root, "sports_understanding").Exemplars[1];
        Assert.Equal("Is the following sentence plausible? \"Santi Cazorla scored a touchdown.\"", sports.Input);
        Assert.Equal("Santi Cazorla is a soccer player. Touchdown is part of American football and rugby. So the answer is no.", sports.Rationale);
        Assert.Equal("no", sports.Answer);

        var dyck = BbhData.LoadPrompt(Root, "dyck_languages").Exemplars.Select(e => e.Answer);
        Assert.Equal(["] ) )", "] } ]", "} ] >"], dyck.Order(StringComparer.Ordinal));
        Assert.All(BbhData.LoadPrompt(Root, "date_understanding").Exemplars, e => Assert.Matches(@"^\([A-F]\)$", e.Answer));
        Assert.Equal(["-219", "123", "3929"], BbhData.LoadPrompt(Root, "multistep_arithmetic_two").Exemplars.Select(e => e.Answer).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("canary\nno dashes here\nQ: x\nA: Let's think step by step. So the answer is y.", "top level", "'-----'")]
    [InlineData("canary\n-----\nJust a description.\n", "line 3", "no exemplars")]
    [InlineData("canary\n-----\nDesc.\n\nQ: first\nA: Let's think step by step. So the answer is y.\n\nQ: second\nA: I guess so.\n", "line 8 (exemplar 2)", "A: Let's think step by step.")]
    [InlineData("canary\n-----\nDesc.\n\nQ: first\nA: Let's think step by step. It is y.\n", "line 5 (exemplar 1)", "So the answer is")]
    [InlineData("canary\n-----\nDesc.\n\nQ: first\nA: Let's think step by step. So the answer is .\n", "line 5 (exemplar 1)", "nothing after")]
    public void Malformed_prompts_name_the_file_and_line(string text, string location, string problem)
    {
        var e = Assert.Throws<DataFormatException>(() => BbhData.ParsePrompt("t", text, "/x/t.txt"));
        Assert.Equal("/x/t.txt", e.File);
        Assert.Equal(location, e.Location);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Crlf_prompts_parse_like_lf_prompts()
    {
        var lf = "canary\n-----\nDesc.\n\nQ: a\nb\nA: Let's think step by step.\nStep. So the answer is (B).\n";
        var fromCrlf = BbhData.ParsePrompt("t", lf.Replace("\n", "\r\n"), "t.txt");
        var fromLf = BbhData.ParsePrompt("t", lf, "t.txt");
        Assert.Equal(fromLf.Text, fromCrlf.Text);
        Assert.Equal(fromLf.Exemplars, fromCrlf.Exemplars);
        Assert.Equal(new BbhExemplar("a\nb", "Step. So the answer is (B).", "(B)"), fromLf.Exemplars.Single());
    }

    [Fact]
    public void Unknown_task_lists_the_tasks()
    {
        var e = Assert.Throws<SpecialistException>(() => BbhData.LoadPrompt(Root, "navigat"));
        Assert.Contains("navigat'", e.Message);
        Assert.Contains("web_of_lies", e.Message);
    }
}
