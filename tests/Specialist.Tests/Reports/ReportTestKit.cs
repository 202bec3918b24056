using System.Text.Json.Nodes;
using Specialist.Models;

namespace Specialist.Tests.Reports;

/// <summary>Hand-made training run and evaluation folders in the trainer's and <c>specialist eval</c>'s formats.</summary>
internal static class ReportTestKit
{
    /// <summary>One dev evaluation line: accuracies in 0..1 for gsm8k-dev and the three OOD dev sets.</summary>
    public sealed record Eval(int Step, double Gsm8k, double MultiArith, double Asdiv, double Svamp)
    {
        public double OodMean => (MultiArith + Asdiv + Svamp) / 3;
        public string Checkpoint => $"checkpoints/step-{Step:D6}";
    }

    /// <summary>
    /// A run folder: config.json, metrics.jsonl (a train line per step, an eval line per <paramref name="evals"/>),
    /// a checkpoint config.json of <paramref name="config"/> per evaluation and, when asked, selection.json.
    /// </summary>
    public static string WriteRun(string parent, string name, string loss, int steps, IReadOnlyList<Eval> evals, T5Config config, bool selection = true)
    {
        var run = Path.Combine(parent, name);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"), new JsonObject
        {
            ["student"] = "models/flan-t5-small", ["loss"] = loss, ["formats"] = new JsonArray("ic-cot", "zs-cot"), ["seed"] = 1, ["lr"] = 5e-4,
        }.ToJsonString());
        var lines = new List<string>();
        for (var step = 1; step <= steps; step++)
        {
            lines.Add(new JsonObject
            {
                ["kind"] = "train", ["step"] = step, ["epoch"] = (double)step / steps, ["loss"] = Loss(loss, step), ["lr"] = 5e-4,
                ["tokens_per_s"] = 1000.0, ["grad_norm"] = 1.0, ["loss_by_format"] = new JsonObject { ["ic-cot"] = Loss(loss, step) }, ["elapsed_s"] = step * 0.5,
            }.ToJsonString());
            foreach (var e in evals.Where(e => e.Step == step))
            {
                Directory.CreateDirectory(Path.Combine(run, e.Checkpoint));
                File.WriteAllText(Path.Combine(run, e.Checkpoint, "config.json"), config.ToJson());
                lines.Add(new JsonObject
                {
                    ["kind"] = "eval", ["step"] = step,
                    ["accuracy"] = new JsonObject { ["gsm8k-dev"] = e.Gsm8k, ["multiarith-dev"] = e.MultiArith, ["asdiv-dev"] = e.Asdiv, ["svamp-dev"] = e.Svamp },
                    ["id_accuracy"] = e.Gsm8k, ["ood_mean"] = e.OodMean, ["checkpoint"] = e.Checkpoint,
                }.ToJsonString());
            }
        }
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"), lines);
        if (selection)
        {
            var bestId = evals.MaxBy(e => e.Gsm8k)!;
            var bestOod = evals.MaxBy(e => e.OodMean)!;
            File.WriteAllText(Path.Combine(run, "selection.json"), new JsonObject
            {
                ["id_set"] = "gsm8k-dev",
                ["ood_sets"] = new JsonArray("multiarith-dev", "asdiv-dev", "svamp-dev"),
                ["best_id"] = new JsonObject { ["step"] = bestId.Step, ["checkpoint"] = bestId.Checkpoint, ["accuracy"] = bestId.Gsm8k },
                ["best_ood"] = new JsonObject { ["step"] = bestOod.Step, ["checkpoint"] = bestOod.Checkpoint, ["ood_mean"] = bestOod.OodMean },
                ["last"] = new JsonObject { ["step"] = evals[^1].Step, ["checkpoint"] = evals[^1].Checkpoint },
            }.ToJsonString());
        }
        return run;
    }

    public static double Loss(string loss, int step) => 3 * Math.Exp(-step / 10.0) + (loss == "sample" ? 0.5 : 0.3);

    /// <summary>An evaluation folder's results.json: correct answers out of 100 per math set, and two BBH tasks.</summary>
    public static string WriteEvaluation(string parent, string name, long? parameters, IReadOnlyDictionary<string, int> mathCorrect, int? bbhCorrect)
    {
        var folder = Path.Combine(parent, name);
        Directory.CreateDirectory(folder);
        static JsonObject Accuracy(int correct, int total) => new()
        {
            ["accuracy"] = (double)correct / total, ["correct"] = correct, ["total"] = total,
            ["ci95"] = new JsonArray(Specialist.Answers.WilsonInterval.Compute(correct, total).Lo, Specialist.Answers.WilsonInterval.Compute(correct, total).Hi),
        };
        var sets = new JsonObject();
        foreach (var (set, correct) in mathCorrect) sets[set] = Accuracy(correct, 100);
        var json = new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["model"] = "/models/" + name, ["model_fingerprint"] = "t5:" + name, ["parameters"] = parameters, ["prompt"] = "4shot", ["bbh_mode"] = "cot",
                ["decoding"] = "greedy (float32)", ["max_new_tokens"] = 256, ["limit"] = null, ["commit"] = "0123abc",
            },
            ["sets"] = sets,
        };
        if (bbhCorrect is { } b)
        {
            sets["bbh"] = Accuracy(2 * b + 10, 200);
            json["bbh"] = new JsonObject { ["tasks"] = new JsonObject { ["navigate"] = Accuracy(b, 100), ["snarks"] = Accuracy(b + 10, 100) }, ["mean"] = (b + 5) / 100.0 };
        }
        File.WriteAllText(Path.Combine(folder, "results.json"), json.ToJsonString());
        return folder;
    }
}
