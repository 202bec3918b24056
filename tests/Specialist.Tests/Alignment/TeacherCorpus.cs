using Specialist.Alignment;
using Specialist.Data;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

/// <summary>
/// Real texts with a real teacher tokenization: GSM8K questions and rationales (calculator marks removed, ending "The
/// answer is N") tokenized by a tiktoken encoding, each position given a top-k list in the store's shape — the sampled
/// token first, then alternatives that include it again, neighbouring tokens, its space-toggled form, a newline and
/// strings from elsewhere in the corpus — with four-decimal probabilities, drawn from a fixed seed.
/// </summary>
internal static class TeacherCorpus
{
    public sealed record Annotated(string Text, string[] Tokens, (string Token, double P)[][] TopK)
    {
        public TeacherSequence ToSequence(TeacherVocabulary vocabulary) =>
            TeacherSequence.Create(Text, vocabulary, TopK.Select(list => (IReadOnlyList<TeacherCandidate>)list.Select(c => new TeacherCandidate(c.Token, c.P)).ToList()).ToList());
    }

    /// <summary><paramref name="count"/> texts of a GSM8K split, picked with <paramref name="seed"/>: alternately a question and a rationale.</summary>
    public static List<string> Gsm8kTexts(string split, int count, int seed)
    {
        var problems = ProblemSets.Load(split, new DataOptions(TestPaths.DataRoot));
        var random = new Random(seed);
        var texts = new List<string>(count);
        for (var k = 0; k < count; k++)
        {
            var p = problems[random.Next(problems.Count)];
            texts.Add(k % 2 == 0 ? p.Question : GsmRationale.StripCalculatorMarks(p.Rationale!).Trim() + "\nThe answer is " + p.Answer.Text);
        }
        return texts;
    }

    public static List<Annotated> Annotate(IEnumerable<string> texts, ITokenizer teacher, int seed)
    {
        var random = new Random(seed);
        var pool = new List<string>();
        var result = new List<Annotated>();
        foreach (var text in texts)
        {
            var tokens = teacher.Encode(text).Tokens.Select(t => text.Substring(t.Start, t.Length)).ToArray();
            pool.AddRange(tokens.Take(20));
            var topk = new (string, double)[tokens.Length][];
            for (var i = 0; i < tokens.Length; i++)
            {
                string Other() => random.Next(6) switch
                {
                    0 => tokens[i],
                    1 => tokens[Math.Max(0, i - 1)],
                    2 => tokens[Math.Min(tokens.Length - 1, i + 1)],
                    3 => tokens[i].StartsWith(' ') ? tokens[i][1..] : " " + tokens[i],
                    4 => "\n",
                    _ => pool[random.Next(pool.Count)],
                };
                var list = new List<(string, double)> { (tokens[i], P()) };
                for (var k = 0; k < 5; k++) list.Add((Other(), P()));
                // As the store keeps it: the sampled token's probability repeated where it reappears.
                topk[i] = list.Select(c => c.Item1 == tokens[i] ? (c.Item1, list[0].Item2) : c).ToArray();
            }
            result.Add(new Annotated(text, tokens, topk));
        }
        return result;

        double P() => Math.Round(random.NextDouble(), 4);
    }
}
