using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Benchmarks;
using Specialist.Data;
using Specialist.Tokenization;
using Specialist.Training;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist train --student DIR --data SET --out RUN [options]</c> or <c>specialist train --resume RUN</c>: the
/// specialization recipe (<see cref="TrainingRecipe"/>), with a progress line on stderr and a summary on stdout.
/// </summary>
internal static class TrainCommand
{
    private static readonly string Usage =
        "usage: specialist train --student DIR --data SET --out RUN [options] [--config run.json] [--json]\n" +
        "       specialist train --resume RUN [--json]\n" +
        "  --loss sample|distribution      cross-entropy on the teacher text, or KL to the sparse teacher top-k (CoT batches; answer-only use cross-entropy)\n" +
        "  --formats ic-cot,ic-ao,...      formats to train on (default: all the set holds)\n" +
        "  --batch-size N|ic-cot=25,...    micro-batch size per format (default: the set's)\n" +
        $"  --lr {Num(D.Lr)} --warmup {D.Warmup} --schedule cosine|constant|linear --weight-decay {Num(D.WeightDecay)} --max-grad-norm {Num(D.MaxGradNorm)} (0: no clipping)\n" +
        "  --lr-horizon steps|micro-steps  what the schedule's length counts; warm-up is always in optimiser steps. micro-steps\n" +
        "                                  reproduces the authors' code: its cosine runs over epochs x micro-batches while it\n" +
        "                                  steps once per optimiser step, so with --grad-accum G the rate barely decays\n" +
        $"  --epochs {D.Epochs} | --steps N         length of the run (optimiser steps); --grad-accum G micro-batches per step\n" +
        $"  --eval-every {D.EvalEvery} --eval-sets {string.Join(",", D.EvalSets)} --id-set {D.IdSet} --eval-limit K\n" +
        "  --ood-sets a,b                  the sets whose mean accuracy selects best-ood (default: the eval sets but the id set;\n" +
        "                                  other eval sets are tracked in the metrics only)\n" +
        $"  --eval-prompt 4shot|zeroshot --eval-max-new-tokens {D.EvalMaxNewTokens} --eval-batch-size {D.EvalBatchSize}\n" +
        $"  --replay SET --replay-share {Num(D.ReplayShare)} each micro-batch comes from the distillation set SET (gold data for the same student;\n" +
        "                                  its own formats and batch sizes) with this chance, trained with cross-entropy and\n" +
        "                                  logged as replay:FORMAT; epochs count the --data set only\n" +
        $"  --save-every N (default: at every evaluation) --keep-last {D.KeepLast}   --max-source-len N --max-target-len N (truncation)\n" +
        "  --seed S --threads N --device cpu|cuda|cuda:N (cuda: the CUDA build, README \"Devices\") --dtype fp32|bf16 --data-root DIR\n" +
        "  --config run.json takes the same keys (snake_case: lr_horizon, eval_sets, ...); options given here override it.\n" +
        "  Writes RUN/config.json (resolved), RUN/metrics.jsonl, RUN/checkpoints/step-NNNNNN/ (HF layout + optimiser and RNG state),\n" +
        "  RUN/selection.json and RUN/best-ood -> the checkpoint with the best mean OOD dev accuracy (the paper's selection).\n" +
        "  Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and exits with code 130; --resume RUN continues\n" +
        "  exactly (the same losses as an uninterrupted run) from the latest checkpoint, and starts a run that was killed before\n" +
        "  its first one over. A NaN or infinite loss stops the run with exit code 1.";

    /// <summary>The defaults, which live in the library (<see cref="TrainingConfig.Defaults"/>).</summary>
    private static TrainingConfig D => TrainingConfig.Defaults;

    private static string Num(double value) => value.ToString(CultureInfo.InvariantCulture);

    public static int Run(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json", "help");
        if (parsed.Flag("help") || args.Length == 0)
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var resume = parsed.Get("resume");
        var configFile = parsed.Get("config");
        var json = parsed.Flag("json");
        var config = configFile is null ? TrainingConfig.Defaults : TrainingConfig.ReadFile(configFile, TrainingConfig.Defaults);
        var given = new List<string>();
        foreach (var key in TrainingConfig.Keys)
        {
            var option = key.Replace('_', '-');
            if (parsed.Get(option) is not { } value) continue;
            given.Add("--" + option);
            try { config = config.With(key, value); }
            catch (SpecialistException e) { throw new UsageException($"option --{option}: {e.Message}"); }
        }
        parsed.EnsureAllUsed();
        if (resume is not null && (given.Count > 0 || configFile is not null))
            throw new UsageException($"--resume continues a run with the config it recorded; drop {string.Join(", ", given.Append(configFile is null ? null : "--config").OfType<string>())}");
        if (resume is null)
            try { config.Validate(); }
            catch (SpecialistException e) { throw new UsageException(e.Message); }

        using var stop = new StopSignals("train: stopping after this step and saving a checkpoint (signal again to quit at once)");

        var progress = new ProgressLine(enabled: !json);
        var result = resume is null
            ? TrainingRecipe.Start(config, progress.Report, stop.Token)
            : TrainingRecipe.Resume(resume, progress.Report, stop.Token);
        progress.Finish();
        Print(result, json);
        return result.Interrupted ? 130 : 0;
    }

    /// <summary><c>specialist bench train</c>: tokens/s per student shape and loss, and memory over a long run (<see cref="TrainBenchmark"/>).</summary>
    public static int Benchmark(string[] args)
    {
        var parsed = CommandArgs.Parse(args, "json");
        var configs = parsed.Get("configs")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [.. TrainBenchmark.DefaultConfigs];
        var steps = parsed.GetInt("steps", 5);
        var memorySteps = parsed.GetInt("memory-steps", 500);
        var dataRoot = DataRoot.Resolve(parsed.Get("data-root"));
        var json = parsed.Flag("json");
        parsed.EnsureAllUsed();
        if (steps < 1 || memorySteps < 10) throw new UsageException("--steps must be at least 1 and --memory-steps at least 10");
        var result = TrainBenchmark.Run(Path.Combine(dataRoot, "tokenizers", "t5", Tokenizers.SentencePieceFileName), configs, steps, memorySteps: memorySteps,
            progress: m => Console.Error.WriteLine("bench train: " + m));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            return 0;
        }
        var table = new Table().AddColumns("config", "loss", "parameters", "tokens/s", "step", "loss alone", "peak RSS");
        foreach (var f in result.Speed)
            table.AddRow(f.Config, f.Loss, $"{f.Parameters / 1e6:F1}M", $"{f.TokensPerSecond:N0}", $"{f.StepMs:N0} ms", $"{f.LossMs:N1} ms", $"{f.PeakRssMb:N0} MB");
        AnsiConsole.Write(table);
        foreach (var o in result.DistributionOverhead)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{o.Config}: distribution matching costs {o.MeasuredPercent:+0.0;-0.0} % per step as measured, {o.LossOnlyPercent:+0.0;-0.0} % from the loss alone"));
        var m = result.Memory;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory, {m.Config} over {m.Steps} steps: {m.RssAfterWarmupMb:F0} MB after {m.WarmupSteps} steps, at most {m.RssMaxMb:F0} MB after ({m.GrowthPercent:+0.0;-0.0} %), {m.RssEndMb:F0} MB at the end ({result.Threads} threads)"));
        return 0;
    }

    private static void Print(TrainingResult result, bool json)
    {
        var s = result.Selection;
        if (json)
        {
            var selection = s.ToJson();
            Console.WriteLine(new JsonObject
            {
                ["run"] = result.RunDirectory,
                ["step"] = result.Step,
                ["total_steps"] = result.TotalSteps,
                ["interrupted"] = result.Interrupted,
                ["last_loss"] = result.LastLoss,
                ["best_id"] = selection["best_id"]?.DeepClone(),
                ["best_ood"] = selection["best_ood"]?.DeepClone(),
                ["last"] = selection["last"]?.DeepClone(),
            }.ToJsonString());
            return;
        }
        string Describe(SelectedCheckpoint? c, string score) => c is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{c.Checkpoint} (step {c.Step}{(score.Length > 0 ? $", {score} {100 * c.Score:F1} %" : "")})");
        var table = new Table().AddColumns("run", Markup.Escape(result.RunDirectory));
        table.AddRow("steps", $"{result.Step} / {result.TotalSteps}{(result.Interrupted ? " (interrupted: continue with --resume)" : "")}");
        table.AddRow("last loss", result.LastLoss is { } loss ? loss.ToString("F4", CultureInfo.InvariantCulture) : "-");
        table.AddRow($"best ID ({Markup.Escape(s.IdSet)})", Markup.Escape(Describe(s.BestId, "accuracy")));
        table.AddRow("best OOD (mean)", Markup.Escape(Describe(s.BestOod, "mean")));
        table.AddRow("last", Markup.Escape(Describe(s.Last, "")));
        AnsiConsole.Write(table);
    }

    /// <summary>
    /// The progress display on stderr: on a terminal one line redrawn per step (bar, step, loss, lr, tokens/s, ETA);
    /// otherwise a line now and then (about every 5 % of the run), plus one per evaluation and checkpoint.
    /// </summary>
    private sealed class ProgressLine(bool enabled)
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private bool _open;

        public void Report(TrainingEvent e)
        {
            if (!enabled) return;
            if (e.Train is { } t)
            {
                var fraction = (double)e.Step / e.TotalSteps;
                const int width = 24;
                var filled = (int)Math.Round(fraction * width);
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"[{new string('#', filled)}{new string('-', width - filled)}] step {e.Step}/{e.TotalSteps} loss {t.Loss:F4} lr {t.Lr:0.00e+00} {t.TokensPerSecond:N0} tok/s ETA {Format(e.Eta ?? TimeSpan.Zero)}");
                var every = Math.Max(1, e.TotalSteps / 20);
                if (_terminal) { Console.Error.Write("\r" + line + "\u001b[K"); _open = true; }
                else if (e.Step % every == 0 || e.Step == e.TotalSteps) Console.Error.WriteLine("train: " + line);
                return;
            }
            EndLine();
            if (e.Eval is { } eval)
                Console.Error.WriteLine("train: eval at step " + e.Step + ": " + string.Join(", ", eval.Accuracy.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key} {100 * a.Value:F1} %")))
                    + (eval.OodMean is { } ood ? string.Create(CultureInfo.InvariantCulture, $"; OOD mean {100 * ood:F1} %") : ""));
            if (e.Checkpoint is { } checkpoint) Console.Error.WriteLine($"train: saved {checkpoint}");
        }

        public void Finish() => EndLine();

        private void EndLine()
        {
            if (!_open) return;
            Console.Error.WriteLine();
            _open = false;
        }

        private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes:D2}:{t.Seconds:D2}";
    }
}
