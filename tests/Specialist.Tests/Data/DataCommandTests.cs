using System.Text.Json;

namespace Specialist.Tests.Data;

/// <summary><c>specialist data stats</c> run as a real child process.</summary>
public class DataCommandTests
{
    private static readonly string Root = TestPaths.DataRoot;

    private static JsonElement StatsJson(params string[] args)
    {
        var result = CliRunner.Run(["data", "stats", .. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    /// <summary>A fresh data root holding one file.</summary>
    private static string RootWith(string relativePath, string content)
    {
        var root = TestPaths.NewTempDir();
        var path = Path.Combine(root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return root;
    }

    private static string FileWith(string name, string content)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Runs the command, expects it to fail with <paramref name="exitCode"/> and an "error:" naming every fragment.</summary>
    private static void Fails(int exitCode, string[] args, params string[] fragments)
    {
        var result = CliRunner.Run(["data", .. args]);
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Empty(result.Stdout);
        foreach (var fragment in fragments) Assert.Contains(fragment, result.Stderr);
    }

    [Theory]
    [InlineData("gsm8k-train", 7473, 7473, 7473)]
    [InlineData("gsm8k-dev", 200, 200, 200)]
    [InlineData("gsm8k-test", 1319, 1319, 1319)]
    [InlineData("multiarith-dev", 200, 200, 0)]
    [InlineData("multiarith-test", 400, 400, 0)]
    [InlineData("asdiv", 2305, 2093, 0)]
    [InlineData("svamp", 1000, 1000, 0)]
    public void Stats_counts_each_set(string set, int count, int numeric, int withRationale)
    {
        var stats = StatsJson(set, "--data-root", Root);
        Assert.Equal(set, stats.GetProperty("set").GetString());
        Assert.Equal(count, stats.GetProperty("count").GetInt32());
        Assert.Equal(numeric, stats.GetProperty("numeric_answers").GetInt32());
        Assert.Equal(withRationale, stats.GetProperty("with_rationale").GetInt32());
        var kinds = stats.GetProperty("answer_kinds");
        Assert.Equal(count, kinds.EnumerateObject().Sum(k => k.Value.GetInt32()));
        Assert.Equal(numeric, kinds.GetProperty("number").GetInt32());
        Assert.True(stats.GetProperty("mean_question_chars").GetDouble() > 50);
        Assert.False(stats.TryGetProperty("tasks", out _));
    }

    [Fact]
    public void Stats_of_bbh_counts_27_tasks()
    {
        var stats = StatsJson("bbh", "--data-root", Root);
        Assert.Equal(6511, stats.GetProperty("count").GetInt32());
        var tasks = stats.GetProperty("tasks");
        Assert.Equal(27, tasks.GetProperty("count").GetInt32());
        var perTask = tasks.GetProperty("per_task");
        Assert.Equal(6511, perTask.EnumerateObject().Sum(t => t.Value.GetInt32()));
        Assert.Equal(187, perTask.GetProperty("causal_judgement").GetInt32());
        Assert.Equal(146, perTask.GetProperty("penguins_in_a_table").GetInt32());
        Assert.Equal(178, perTask.GetProperty("snarks").GetInt32());
        Assert.Equal(250, perTask.GetProperty("navigate").GetInt32());
        Assert.Equal(6511, stats.GetProperty("answer_kinds").GetProperty("text").GetInt32());
    }

    [Fact]
    public void Stats_without_json_prints_a_table_and_the_data_root_can_come_from_SPECIALIST_DATA()
    {
        var result = CliRunner.Run(["data", "stats", "gsm8k-test"], stdin: null, TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["SPECIALIST_DATA"] = Root });
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("gsm8k-test", result.Stdout);
        Assert.Contains("1,319", result.Stdout);
        Assert.Contains("numeric answers", result.Stdout);
    }

    [Fact]
    public void Custom_json_array_shaped_like_MultiArith_reads_an_indexed_answer_field()
    {
        var file = FileWith("mini_arith.json", """
            [
              {"iIndex": 10, "sQuestion": " Tom had 3 apples and got 4 more. How many now? ", "lSolutions": [7.0]},
              {"iIndex": 11, "sQuestion": "Sue had 9 pens and lost 2. How many are left?", "lSolutions": [7.0]},
              {"iIndex": 12, "sQuestion": "A box holds 1,200 nails. Half are used. How many remain?", "lSolutions": [600.0]}
            ]
            """);
        var stats = StatsJson("custom", "--path", file, "--question-field", "sQuestion", "--answer-field", "lSolutions[0]", "--id-field", "iIndex");
        Assert.Equal("custom", stats.GetProperty("set").GetString());
        Assert.Equal(3, stats.GetProperty("count").GetInt32());
        Assert.Equal(3, stats.GetProperty("numeric_answers").GetInt32());
        Assert.Equal(0, stats.GetProperty("with_rationale").GetInt32());
    }

    [Fact]
    public void Custom_jsonl_reads_string_answers_through_a_dotted_path()
    {
        var file = FileWith("mine.jsonl",
            """{"q": "How many?", "meta": {"answer": "1,234"}}""" + "\n" +
            """{"q": "How cold?", "meta": {"answer": "-5"}}""" + "\n\n" +
            """{"q": "How much?", "meta": {"answer": "$7"}}""" + "\n" +
            """{"q": "Who?", "meta": {"answer": "seven dwarfs"}}""" + "\n");
        var stats = StatsJson("custom", "--path", file, "--question-field", "q", "--answer-field", "meta.answer");
        Assert.Equal(4, stats.GetProperty("count").GetInt32());
        Assert.Equal(3, stats.GetProperty("numeric_answers").GetInt32());
        Assert.Equal(1, stats.GetProperty("answer_kinds").GetProperty("text").GetInt32());
    }

    [Fact]
    public void Custom_loader_gives_file_stem_ids_and_typed_golds()
    {
        var file = FileWith("mine.jsonl", """{"q": "A?", "a": "1,234", "id": "x1"}""" + "\n" + """{"q": "B?", "a": 2.5, "id": 7}""" + "\n");
        var problems = Specialist.Data.ProblemSets.Load("custom", new(Root, new(file, "q", "a", "id")));
        Assert.Equal(["mine/x1", "mine/7"], problems.Select(p => p.Id));
        Assert.Equal(1234, problems[0].Answer.Number);
        Assert.Equal(2.5, problems[1].Answer.Number);
        var noIds = Specialist.Data.ProblemSets.Load("custom", new(Root, new(file, "q", "a")));
        Assert.Equal(["mine/0", "mine/1"], noIds.Select(p => p.Id));
    }

    private const string GoodGsmLine = """{"question": "Q one?", "answer": "1+1 = <<1+1=2>>2\n#### 2"}""";

    [Fact]
    public void Truncated_jsonl_line_names_file_and_line()
    {
        var root = RootWith("gsm8k/train.jsonl", GoodGsmLine + "\n" + GoodGsmLine + "\n" + """{"question": "Q three?", "answ""" + "\n");
        Fails(1, ["stats", "gsm8k-train", "--data-root", root], Path.Combine(root, "gsm8k", "train.jsonl"), "line 3", "not valid JSON");
    }

    [Fact]
    public void Missing_question_field_names_file_line_and_field()
    {
        var root = RootWith("gsm8k/test.jsonl", GoodGsmLine + "\n" + """{"query": "Q?", "answer": "#### 3"}""" + "\n");
        Fails(1, ["stats", "gsm8k-test", "--data-root", root], "test.jsonl", "line 2", "field 'question' is missing");
    }

    [Fact]
    public void Non_numeric_gsm8k_gold_names_file_line_and_field()
    {
        var root = RootWith("gsm8k/train.jsonl", GoodGsmLine + "\n\n" + """{"question": "Q?", "answer": "so\n#### seven"}""" + "\n");
        Fails(1, ["stats", "gsm8k-train", "--data-root", root], "train.jsonl", "line 3", "field 'answer'", "'seven'", "not a number");
    }

    [Fact]
    public void Gsm8k_answer_without_final_marker_is_an_error()
    {
        var root = RootWith("gsm8k/train.jsonl", """{"question": "Q?", "answer": "it is 4"}""" + "\n");
        Fails(1, ["stats", "gsm8k-train", "--data-root", root], "train.jsonl", "line 1", "field 'answer'", "has no final answer '#### N'");
    }

    [Fact]
    public void Missing_answer_field_in_a_custom_file_names_it()
    {
        var file = FileWith("c.jsonl", """{"q": "A?", "a": "1"}""" + "\n" + """{"q": "B?"}""" + "\n");
        Fails(1, ["stats", "custom", "--path", file, "--question-field", "q", "--answer-field", "a"], file, "line 2", "field 'a' is missing");
    }

    [Fact]
    public void Unknown_set_lists_the_valid_names()
    {
        Fails(1, ["stats", "gsm9k", "--data-root", Root], "unknown set 'gsm9k'", "gsm8k-train", "multiarith-test", "svamp", "bbh/<task>");
        Fails(1, ["stats", "bbh/navigat", "--data-root", Root], "unknown BBH task 'navigat'", "navigate");
    }

    [Fact]
    public void Wrong_data_root_names_the_path_the_layout_and_how_to_set_it()
    {
        var nowhere = Path.Combine(TestPaths.NewTempDir(), "no-such-root");
        Fails(1, ["stats", "svamp", "--data-root", nowhere], nowhere, Path.Combine(nowhere, "svamp", "SVAMP.json"), "gsm8k/", "multiarith/", "bbh/", "--data-root", "SPECIALIST_DATA");
        var empty = TestPaths.NewTempDir();
        Fails(1, ["stats", "asdiv", "--data-root", empty], Path.Combine(empty, "asdiv", "ASDiv.xml"), "--data-root");
    }

    [Fact]
    public void Missing_custom_file_names_it()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "absent.jsonl");
        Fails(1, ["stats", "custom", "--path", missing, "--question-field", "q", "--answer-field", "a"], "file not found", missing);
    }

    [Fact]
    public void Bad_field_path_and_index_out_of_range_are_named()
    {
        var file = FileWith("arith.json", """[{"q": "A?", "s": [1.0]}, {"q": "B?", "s": []}]""");
        Fails(1, ["stats", "custom", "--path", file, "--question-field", "q", "--answer-field", "s[0"], "invalid field path 's[0'");
        Fails(1, ["stats", "custom", "--path", file, "--question-field", "q", "--answer-field", "s[0]"], file, "record 1", "field 's[0]'", "index 0 is out of range");
        Fails(1, ["stats", "custom", "--path", file, "--question-field", "q.text", "--answer-field", "s[0]"], "record 0", "field 'q.text'", "'q' is a string");
    }

    [Fact]
    public void Json_array_file_that_is_not_an_array_is_named()
    {
        var root = RootWith("svamp/SVAMP.json", """{"ID": "chal-1", "Body": "B", "Question": "Q?", "Answer": 1.0}""");
        Fails(1, ["stats", "svamp", "--data-root", root], "SVAMP.json", "top level", "not a JSON array");
        var custom = FileWith("obj.json", "{\n  \"examples\": [{\"q\": \"A?\", \"a\": 1}]\n}\n");
        Fails(1, ["stats", "custom", "--path", custom, "--question-field", "q", "--answer-field", "a"], custom, "spread over several lines", "JSON array");
    }

    [Fact]
    public void Wrongly_typed_field_names_record_and_field()
    {
        var root = RootWith("svamp/SVAMP.json", """[{"ID": "a", "Body": "B.", "Question": "Q?", "Answer": 1.0}, {"ID": "b", "Body": "B.", "Question": "Q?", "Answer": "one"}]""");
        Fails(1, ["stats", "svamp", "--data-root", root], "SVAMP.json", "record 1", "field 'Answer' is a string, not a number");
        var multi = RootWith("multiarith/MultiArith.json", """[{"iIndex": 0, "sQuestion": "Q?", "lSolutions": ["7"]}]""");
        Fails(1, ["stats", "multiarith-dev", "--data-root", multi], "MultiArith.json", "record 0", "field 'lSolutions[0]' is a string, not a number");
    }

    [Fact]
    public void Bad_xml_names_file_and_line()
    {
        var root = RootWith("asdiv/ASDiv.xml", "<?xml version=\"1.0\"?>\n<ProblemSet>\n<Problem ID=\"p1\">\n<Body>B</Body>\n</ProblemSet>\n");
        Fails(1, ["stats", "asdiv", "--data-root", root], "ASDiv.xml", "line 5", "not well-formed XML");
    }

    [Fact]
    public void Asdiv_problem_without_answer_names_problem_and_field()
    {
        var root = RootWith("asdiv/ASDiv.xml",
            "<ProblemSet>\n<Problem ID=\"p1\"><Body>B.</Body><Question>Q?</Question><Answer>3 (cats)</Answer></Problem>\n" +
            "<Problem ID=\"p2\"><Body>B.</Body><Question>Q?</Question></Problem>\n</ProblemSet>\n");
        Fails(1, ["stats", "asdiv", "--data-root", root], "ASDiv.xml", "problem p2 (line 3)", "field 'Answer' is missing");
    }

    [Fact]
    public void Bbh_file_without_examples_is_named()
    {
        var root = RootWith("bbh/bbh/toy.json", """{"canary": "x", "items": []}""");
        Fails(1, ["stats", "bbh", "--data-root", root], "toy.json", "field 'examples' is missing");
        var noTarget = RootWith("bbh/bbh/toy.json", """{"examples": [{"input": "a", "target": "b"}, {"input": "c"}]}""");
        Fails(1, ["stats", "bbh/toy", "--data-root", noTarget], "toy.json", "example 1", "field 'target' is missing");
    }

    [Fact]
    public void Bad_dev_index_is_named()
    {
        var root = RootWith("gsm8k/train.jsonl", GoodGsmLine + "\n" + GoodGsmLine + "\n");
        File.WriteAllText(Path.Combine(root, "gsm8k", "dev_indices.json"), "[1, 0, 2]");
        Fails(1, ["stats", "gsm8k-dev", "--data-root", root], "dev_indices.json", "record 2", "train index 2 is out of range");
    }

    [Fact]
    public void Duplicate_custom_ids_are_named()
    {
        var file = FileWith("dup.jsonl", """{"q": "A?", "a": 1, "id": 5}""" + "\n" + """{"q": "B?", "a": 2, "id": 5}""" + "\n");
        Fails(1, ["stats", "custom", "--path", file, "--question-field", "q", "--answer-field", "a", "--id-field", "id"], "line 2", "field 'id'", "id '5' appears twice");
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Fails(2, [], "missing subcommand", "data stats <set>");
        Fails(2, ["summarise", "svamp"], "unknown subcommand 'summarise'");
        Fails(2, ["stats"], "missing argument <set>");
        Fails(2, ["stats", "svamp", "--data-root", Root, "--answer-field", "x"], "--answer-field only applies to the custom set");
        Fails(2, ["stats", "custom", "--answer-field", "a"], "--path, --question-field");
        Fails(2, ["stats", "svamp", "--data-root", Root, "--bogus", "1"], "unknown option: --bogus");
    }
}
