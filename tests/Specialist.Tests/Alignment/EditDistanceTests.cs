using Specialist.Alignment;

namespace Specialist.Tests.Alignment;

public sealed class EditDistanceTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("earns", "earn", 1)]
    [InlineData("$", "$12", 2)]
    [InlineData("\n", "She", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("babys", "s", 4)]
    [InlineData("😀a", "a", 1)] // one code point, two UTF-16 units
    [InlineData("😀", "😁", 1)]
    public void KnownDistances(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Levenshtein(a, b));
        Assert.Equal(expected, EditDistance.Levenshtein(b, a));
    }

    [Fact]
    public void AgreesWithTheTextbookTableOnRandomStrings()
    {
        var random = new Random(3);
        string[] alphabet = ["a", "b", "c", "1", "2", "$", "\n", "é", "😀", "𝑥"];
        string Word() => string.Concat(Enumerable.Range(0, random.Next(0, 9)).Select(_ => alphabet[random.Next(alphabet.Length)]));
        for (var k = 0; k < 3000; k++)
        {
            var (a, b) = (Word(), Word());
            Assert.Equal(AuthorsRule.Levenshtein(a, b), EditDistance.Levenshtein(a, b));
        }
    }
}
