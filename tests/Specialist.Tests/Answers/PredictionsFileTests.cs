using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;

namespace Specialist.Tests.Answers;

public class PredictionsFileTests
{
    private static string Write(params string[] lines)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "predictions.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Reads_ids_outputs_and_lines_skipping_blank_lines()
    {
        var path = Write("""{"id": "a", "output": "The answer is 1"}""", "", """{"output": "x\ny", "id": "b", "extra": 3}""");
        var file = PredictionsFile.Read(path);
        Assert.Equal(path, file.Path);
        Assert.Equal([new Prediction("a", "The answer is 1", 1), new Prediction("b", "x\ny", 3)], file.Predictions);
    }

    [Theory]
    [InlineData("{\"id\": \"a\", \"output\": ", null, "is not valid JSON")]
    [InlineData("[1, 2]", null, "is not a JSON object")]
    [InlineData("{\"output\": \"x\"}", "id", "is missing")]
    [InlineData("{\"id\": 7, \"output\": \"x\"}", "id", "must be a string, not number")]
    [InlineData("{\"id\": \"b\"}", "output", "is missing")]
    [InlineData("{\"id\": \"b\", \"output\": null}", "output", "must be a string, not null")]
    public void A_malformed_line_names_file_line_and_field(string badLine, string? field, string problem)
    {
        var path = Write("""{"id": "a", "output": "1"}""", badLine);
        var e = Assert.Throws<DataFormatException>(() => PredictionsFile.Read(path));
        Assert.Equal(path, e.File);
        Assert.Equal("line 2", e.Location);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void A_repeated_id_names_both_lines()
    {
        var path = Write("""{"id": "a", "output": "1"}""", """{"id": "b", "output": "2"}""", """{"id": "a", "output": "3"}""");
        var e = Assert.Throws<DataFormatException>(() => PredictionsFile.Read(path));
        Assert.Equal("line 3", e.Location);
        Assert.Equal("id", e.Field);
        Assert.Contains("'a' of line 1", e.Message);
    }

    [Fact]
    public void A_missing_file_is_a_user_error() =>
        Assert.Throws<SpecialistException>(() => PredictionsFile.Read(Path.Combine(TestPaths.NewTempDir(), "none.jsonl")));

    [Fact]
    public void Ids_not_in_the_set_are_named_up_to_five_with_their_count()
    {
        var problems = new[] { new Problem("p/0", "q", GoldAnswer.FromNumber(1)) };
        var lines = new[] { """{"id": "p/0", "output": "1"}""" }.Concat(Enumerable.Range(1, 7).Select(i => $$"""{"id": "x{{i}}", "output": "1"}""")).ToArray();
        var file = PredictionsFile.Read(Write(lines));
        var e = Assert.Throws<SpecialistException>(() => SetScore.Compute("toy", problems, file));
        Assert.Contains("7 prediction ids are not in set 'toy'", e.Message);
        Assert.Contains("'x1' (line 2)", e.Message);
        Assert.Contains("'x5' (line 6)", e.Message);
        Assert.DoesNotContain("'x6'", e.Message);
        Assert.Contains(file.Path, e.Message);
    }

    [Fact]
    public void Problems_without_predictions_count_as_wrong()
    {
        var problems = Enumerable.Range(0, 4).Select(i => new Problem($"p/{i}", "q", GoldAnswer.FromNumber(i))).ToList();
        var file = PredictionsFile.Read(Write("""{"id": "p/1", "output": "The answer is 1"}""", """{"id": "p/2", "output": "The answer is 3"}"""));
        var score = SetScore.Compute("toy", problems, file);
        Assert.Equal(new SetScore("toy", 4, 2, 1), score);
        Assert.Equal(0.25, score.Accuracy);
        Assert.Equal(WilsonInterval.Compute(1, 4), score.Ci95);
    }

    [Fact]
    public void Bbh_mode_scores_targets_as_bbh_answers()
    {
        var problems = new[] { new Problem("bbh/t/0", "q", GoldAnswer.FromText("(A)")) };
        var file = PredictionsFile.Read(Write("""{"id": "bbh/t/0", "output": "A"}"""));
        Assert.Equal(1, SetScore.Compute("bbh/t", problems, file, BbhMode.AnswerOnly).Correct);
        Assert.Equal(0, SetScore.Compute("bbh/t", problems, file, BbhMode.Cot).Correct);
    }
}
