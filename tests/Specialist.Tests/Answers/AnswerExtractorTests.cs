using Specialist.Answers;

namespace Specialist.Tests.Answers;

public class AnswerExtractorTests
{
    [Theory]
    // "the answer is" first: the first number after its last occurrence, whatever follows.
    [InlineData("She makes 9 * 2 = $18 every day.\nThe answer is 18", 18)]
    [InlineData("The answer is 42. Then she buys 7 more apples.", 42)]
    [InlineData("The answer is 5. Wait, 3 + 4 = 7, so the answer is 7.", 7)]
    [InlineData("THE ANSWER IS 3.50 dollars", 3.5)]
    [InlineData("the Answer Is: 12 eggs, 3 dozen", 12)]
    [InlineData("The answer is 18.\n\nQ: Janet has 3 ducks.", 18)]
    // Thousands separators, currency, percent, units.
    [InlineData("The answer is 1,234.", 1234)]
    [InlineData("The answer is $1,234.50 in total", 1234.5)]
    [InlineData("The answer is $1,450,000.00.", 1450000)]
    [InlineData("12,000 - 2,000 = 10,000", 10000)]
    [InlineData("So the discount is 50%.", 50)]
    [InlineData("The answer is 25%", 25)]
    [InlineData("4 x 5 = 20 pounds", 20)]
    [InlineData("It weighs 3.5kg", 3.5)]
    // Minus signs versus hyphens.
    [InlineData("So 7 - 12 = -5. The answer is -5", -5)]
    [InlineData("The answer is \u22127", -7)]
    [InlineData("Her balance is -$5", -5)]
    [InlineData("10-5=5", 5)]
    [InlineData("10-13=-3", -3)]
    [InlineData("He got COVID-19", 19)]
    [InlineData("5 - 3", 3)]
    // Decimals, a sentence-final period, fractions, mixed numbers.
    [InlineData("It is 42.", 42)]
    [InlineData("He ran .5 miles", 0.5)]
    [InlineData("The answer is 1/2", 0.5)]
    [InlineData("The answer is 3/4.", 0.75)]
    [InlineData("She used 3 1/2 cups", 3.5)]
    [InlineData("The answer is -1 1/2", -1.5)]
    // Lists are not thousands groups.
    [InlineData("The numbers are 3, 4", 4)]
    [InlineData("1,2", 2)]
    [InlineData("1,2345", 2345)]
    // Without a number after the phrase: the last number before it.
    [InlineData("She had 3 apples and 4 pears, so the answer is twelve.", 4)]
    public void Extracts_the_predicted_number(string output, double expected)
    {
        var value = AnswerExtractor.Extract(output);
        Assert.NotNull(value);
        Assert.Equal(expected, value!.Value, 9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("I do not know.")]
    [InlineData("The answer is twelve.")]
    public void No_number_extracts_nothing(string output) => Assert.Null(AnswerExtractor.Extract(output));

    [Theory]
    [InlineData("1,2 and 3, 4", new[] { 1.0, 2, 3, 4 })]
    [InlineData("1,234,567 and 1234,567", new[] { 1234567.0, 1234, 567 })]
    [InlineData("3/4/2020", new[] { 3.0, 4, 2020 })]
    [InlineData("There are 3/ 1/4 = 12 quarters", new[] { 3.0, 0.25, 12 })]
    [InlineData("2 - 1/2 = 1 1/2", new[] { 2.0, 0.5, 1.5 })]
    [InlineData("3 5/2", new[] { 3.0, 2.5 })]
    [InlineData("5/0 or 7", new[] { 5.0, 0, 7 })]
    [InlineData("x=-5, y=+6, pre-7", new[] { -5.0, 6, 7 })]
    [InlineData("1,000.5 then 0.25.", new[] { 1000.5, 0.25 })]
    [InlineData("3:45 p.m.", new[] { 3.0, 45 })]
    public void Scans_every_number_in_order(string text, double[] expected)
    {
        var values = NumberScanner.Scan(text).Select(n => n.Value).ToArray();
        Assert.Equal(expected, values);
    }

    [Fact]
    public void A_number_span_covers_its_sign_and_separators()
    {
        var n = Assert.Single(NumberScanner.Scan("pay -$1,234.50 now"));
        Assert.Equal("-$1,234.50", "pay -$1,234.50 now"[n.Start..n.End]);
    }
}
