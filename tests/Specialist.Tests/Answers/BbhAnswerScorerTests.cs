using Specialist.Answers;

namespace Specialist.Tests.Answers;

public class BbhAnswerScorerTests
{
    [Theory]
    [InlineData("(1) ... So the answer is (A).", "(A)", true)]
    [InlineData("So the answer is A.", "(A)", true)]
    [InlineData("So the answer is (a)", "(A)", true)]
    [InlineData("So the answer is (A) 12/11/1937.", "(A)", true)]
    [InlineData("So the answer is (B).", "(A)", false)]
    [InlineData("So the answer is (A).", "A", true)]
    [InlineData("Since (0, 9) is not (0, 0), we are not where we started. So the answer is No.", "No", true)]
    [InlineData("So the answer is no", "No", true)]
    [InlineData("So the answer is Not sure.", "No", false)]   // the authors' substring test would count this
    [InlineData("So the answer is Yes.", "No", false)]
    [InlineData("First the answer is Yes. On reflection, the answer is No.", "No", true)]
    [InlineData("So the answer is No.\nQ: next question", "No", true)]
    [InlineData("So the answer is Monsters, Inc.", "Monsters, Inc", true)]
    [InlineData("So the answer is ] )  }.", "] ) }", true)]
    [InlineData("So the answer is -11,520.", "-11520", true)]
    [InlineData("So the answer is 8 apples.", "8", true)]
    [InlineData("So the answer is 9.", "8", false)]
    [InlineData("(A)", "(A)", false)]                        // CoT needs "the answer is"
    [InlineData("", "Yes", false)]
    public void Chain_of_thought_reads_the_text_after_the_last_answer_phrase(string output, string target, bool correct) =>
        Assert.Equal(correct, BbhAnswerScorer.IsCorrect(output, target, BbhMode.Cot));

    [Theory]
    [InlineData("(A)", "(A)", true)]
    [InlineData("  Yes\nbecause it is.", "Yes", true)]
    [InlineData("No.", "No", true)]
    [InlineData("the answer is (C).", "(C)", true)]
    [InlineData("(B)\nthe answer is (C)", "(C)", true)]        // the phrase wins over the first line
    [InlineData("(B)", "(C)", false)]
    [InlineData("\n\n", "Yes", false)]
    public void Answer_only_falls_back_to_the_first_line(string output, string target, bool correct) =>
        Assert.Equal(correct, BbhAnswerScorer.IsCorrect(output, target, BbhMode.AnswerOnly));
}
