using Specialist.Data;
using Specialist.Teachers;
using Specialist.Tokenization;

namespace Specialist.Tests.Alignment;

/// <summary>
/// Builds a real annotation store (SQLite, through the store's own recording code) whose samples are GSM8K gold
/// rationales as a teacher would emit them — a leading newline, the rationale without calculator marks, "The answer is
/// N" and a trailing newline — tokenized by gpt2 with a top-k list per position. Every third sample of a question
/// gets a wrong final answer, so it is not kept.
/// </summary>
internal static class StoreKit
{
    private const string Template = "Question: {question}\nLet's think step by step\n";

    public sealed record Built(string Path, IReadOnlyList<Problem> Problems, IReadOnlyDictionary<string, int> Kept, IReadOnlyDictionary<string, int> Samples);

    public static Built Create(IReadOnlyList<Problem> problems, Func<int, int> samplesOf)
    {
        var path = System.IO.Path.Combine(TestPaths.NewTempDir(), "store.db");
        var config = new AnnotationConfig("teacher-x", TeacherApi.Completions, AnnotationConfig.HashPrompt(Template), 0.5, 1, 256, 5, ["\n\n"]);
        var gpt2 = Tokenizers.Load("gpt2");
        var kept = new Dictionary<string, int>();
        var counts = new Dictionary<string, int>();
        using var store = AnnotationStore.Open(path, create: true);
        store.EnsureConfig(config, Template);
        store.AddQuestions("gsm8k-train", problems);
        var run = store.StartRun("live", "http://127.0.0.1:1/v1", "gsm8k-train", config, "{}");
        for (var q = 0; q < problems.Count; q++)
        {
            var p = problems[q];
            var samples = new List<ScoredSample>();
            for (var s = 0; s < samplesOf(q); s++)
            {
                var answer = s % 3 == 2 ? (p.Answer.Number!.Value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : p.Answer.Text;
                var text = "\n" + GsmRationale.StripCalculatorMarks(p.Rationale!).Trim() + "\nThe answer is " + answer + "\n";
                var annotated = TeacherCorpus.Annotate([text], gpt2, seed: 100 * q + s)[0];
                var positions = annotated.TopK.Select(list => new TokenPosition(list[0].Token, MathF.Log((float)Math.Max(list[0].P, 1e-4)),
                    [.. list.Skip(1).Select(c => new TopCandidate(c.Token, MathF.Log((float)Math.Max(c.P, 1e-4))))])).ToList();
                samples.Add(ScoredSample.Score(new TeacherSample(text, "stop", positions), p.Answer));
            }
            store.RecordCompleted(run, $"key-{q}", p.Id, 0, samples, 1, 100, 100, null);
            counts[p.Id] = samples.Count;
            kept[p.Id] = samples.Count(s => s.Kept);
        }
        store.FinishRun(run, problems.Count, problems.Count, 0);
        return new Built(path, problems, kept, counts);
    }

    /// <summary>A student model folder: T5's spiece.model and a config.json.</summary>
    public static string StudentFolder()
    {
        var folder = TestPaths.NewTempDir();
        File.Copy(TestPaths.T5SpieceModel, System.IO.Path.Combine(folder, "spiece.model"));
        File.WriteAllText(System.IO.Path.Combine(folder, "config.json"), """{"model_type": "t5", "vocab_size": 32128}""");
        return folder;
    }
}
