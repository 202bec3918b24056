using Specialist.Answers;

namespace Specialist.Tests.Answers;

public class AnswerScorerTests
{
    [Theory]
    [InlineData("The answer is 18", 18, true)]
    [InlineData("The answer is 18.0000001", 18, true)]   // within 1e-6 relative
    [InlineData("The answer is 18.0001", 18, false)]
    [InlineData("The answer is 1,000,000.5", 1000000, true)] // 1e-6 * 1e6 = 1
    [InlineData("The answer is 1,000,002", 1000000, false)]
    [InlineData("The answer is 0.0000005", 0, true)]    // absolute 1e-6 near zero
    [InlineData("The answer is -10", -10, true)]
    [InlineData("The answer is 10", -10, false)]
    [InlineData("The answer is 5/2", 2.5, true)]
    [InlineData("nothing here", 0, false)]
    public void Numeric_golds_compare_with_tolerance(string output, double gold, bool correct) =>
        Assert.Equal(correct, AnswerScorer.IsCorrect(output, GoldAnswer.FromNumber(gold)));

    [Theory]
    [InlineData("It starts at 2:00 p.m. and lasts 1.5 hours. The answer is 3:30 p.m.", true)]
    [InlineData("The answer is 3:30 pm.", true)]
    [InlineData("The answer is 3:30PM", true)]
    [InlineData("The answer is 4:30 p.m.", false)]
    [InlineData("2:00 p.m. plus 1 hour 30 minutes\nends at 3:30 p.m.", true)] // no phrase: the last line
    [InlineData("It ends at 3:30 p.m.\nI think.", false)]
    public void Time_golds_compare_as_normalised_text(string output, bool correct) =>
        Assert.Equal(correct, AnswerScorer.IsCorrect(output, GoldAnswer.FromText("3:30 p.m.", GoldAnswerKind.Time)));

    [Fact]
    public void A_ratio_is_not_matched_inside_a_longer_time()
    {
        var gold = GoldAnswer.FromText("3:4", GoldAnswerKind.Time);
        Assert.True(AnswerScorer.IsCorrect("The answer is 3:4", gold));
        Assert.False(AnswerScorer.IsCorrect("The answer is 3:45", gold));
    }

    [Theory]
    [InlineData("The answer is 50 and 20.", true)]
    [InlineData("So the answer is 50 years old; 20 years old", true)]
    [InlineData("The answer is 20 and 50.", false)]   // order matters: the gold names them in order
    [InlineData("The answer is 50.", false)]
    [InlineData("The answer is 50, 20 and 70.", false)]
    public void Multiple_values_compare_number_by_number(string output, bool correct) =>
        Assert.Equal(correct, AnswerScorer.IsCorrect(output, GoldAnswer.FromText("50; 20", GoldAnswerKind.MultipleValues)));

    [Theory]
    [InlineData("Mrs. Hilt has 32 cents and Jacob 30, so the answer is Mrs. Hilt.", true)]
    [InlineData("The answer is mrs hilt", true)]
    [InlineData("The answer is Jacob.", false)]
    [InlineData("The answer is Mrs. Hilton", false)]
    public void Text_golds_must_appear_as_whole_words(string output, bool correct) =>
        Assert.Equal(correct, AnswerScorer.IsCorrect(output, GoldAnswer.FromText("Mrs. Hilt")));

    [Theory]
    [InlineData("Mrs. Hilt's class (grade 3)", "mrs hilts class")]
    [InlineData("9:03:36 A.M.", "9:03:36 am")]
    [InlineData("  They  are\tequal! ", "they are equal")]
    [InlineData("3.5 (dollars); 1.8", "3.5 1.8")]
    [InlineData("The 60th caller.", "the 60 th caller")]
    public void Normalises_text(string text, string expected) => Assert.Equal(expected, AnswerScorer.NormaliseText(text));
}
