using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Specialist.Benchmarks;
using Specialist.Tokenization;
using Specialist.Training;

namespace Specialist.Cli.Commands;

/// <summary>
/// <c>specialist train --student DIR --data SET --out RUN [options]</c> or <c>specialist train --resume RUN</c>: the
/// specialization recipe (<see cref="TrainingRecipe"/>), with progress on stderr and a summary on stdout. Its options are
/// the training config's keys (<see cref="TrainingConfig.Keys"/>), each as <c>--key-name</c>.
/// </summary>
internal sealed class TrainCommand
{
    /// <summary>The defaults, which live in the library (<see cref="TrainingConfig.Defaults"/>).</summary>
    private static TrainingConfig D => TrainingConfig.Defaults;

    /// <summary>Each training setting's placeholder and help line; every key of <see cref="TrainingConfig.Keys"/> has one.</summary>
    private static readonly Dictionary<string, (string HelpName, string Description)> Settings = new()
    {
        ["student"] = ("DIR", "the student's model folder (Hugging Face layout with spiece.model, or a word-level tokenizer.json)"),
        ["data"] = ("SET", "the distillation set (specialist distill-set build)"),
        ["out"] = ("RUN", "the run folder: config.json (resolved), metrics.jsonl, checkpoints/step-NNNNNN/ (HF layout + optimiser and RNG state), " +
                          "selection.json and best-ood -> the checkpoint with the best mean OOD dev accuracy (the paper's selection)"),
        ["loss"] = ("sample|distribution", "cross-entropy on the teacher text, or KL to the sparse teacher top-k (CoT batches; answer-only use cross-entropy)"),
        ["formats"] = ("ic-cot,ic-ao,...", "formats to train on (default: all the set holds)"),
        ["lr"] = ("LR", "the peak learning rate"),
        ["warmup"] = ("N", "warm-up, in optimiser steps"),
        ["schedule"] = ("cosine|constant|linear", "the learning rate's schedule after warm-up"),
        ["lr_horizon"] = ("steps|micro-steps", "what the schedule's length counts; warm-up is always in optimiser steps. micro-steps reproduces the " +
                                               "authors' code: its cosine runs over epochs x micro-batches while it steps once per optimiser step, so with " +
                                               "--grad-accum G the rate barely decays"),
        ["epochs"] = ("N", "length of the run in epochs of the --data set"),
        ["steps"] = ("N", "length of the run in optimiser steps (instead of --epochs)"),
        ["grad_accum"] = ("G", "micro-batches per optimiser step"),
        ["batch_size"] = ("N|ic-cot=25,...", "micro-batch size per format (default: the set's)"),
        ["max_grad_norm"] = ("X", "gradient clipping (0: no clipping)"),
        ["weight_decay"] = ("X", "AdamW's weight decay"),
        ["eval_every"] = ("N", "dev evaluation every N steps (0: only at the end)"),
        ["eval_sets"] = ("A,B", "the dev sets evaluated"),
        ["id_set"] = ("SET", "the in-distribution dev set"),
        ["eval_limit"] = ("K", "the first K problems of each dev set"),
        ["eval_prompt"] = ("4shot|zeroshot", "the dev evaluation's prompt"),
        ["eval_max_new_tokens"] = ("N", "the longest dev answer, in tokens"),
        ["eval_batch_size"] = ("N", "dev problems decoded together"),
        ["save_every"] = ("N", "a checkpoint every N steps (default: at every evaluation)"),
        ["keep_last"] = ("N", "checkpoints kept besides the selected ones"),
        ["data_root"] = ("DIR", "the data root of the dev sets (default: $SPECIALIST_DATA, else ./data)"),
        ["seed"] = ("S", "the seed of initialisation order, dropout and data order"),
        ["device"] = ("cpu|cuda|cuda:N", "where the model trains; cuda needs the CUDA build (README \"Devices\")"),
        ["dtype"] = ("fp32|bf16", "bf16: mixed precision, matrix multiplies in bf16 (AMX on recent Xeons), weights, optimiser state and loss in fp32"),
        ["threads"] = ("N", "libtorch's threads (0: its default)"),
        ["max_source_len"] = ("N", "truncate inputs to N tokens"),
        ["max_target_len"] = ("N", "truncate targets to N tokens"),
        ["length_pieces"] = ("N", "compute each micro-batch in N pieces of examples of similar length: the same gradient with less padding, " +
                                  "faster for small models on a CPU when lengths vary (1: whole micro-batches, for GPUs)"),
        ["ood_sets"] = ("A,B", "the sets whose mean accuracy selects best-ood (default: the eval sets but the id set; other eval sets are tracked " +
                               "in the metrics only)"),
        ["replay"] = ("SET", "a distillation set of gold data for the same student (its own formats and batch sizes), replayed with cross-entropy " +
                             "and logged as replay:FORMAT; epochs count the --data set only"),
        ["replay_share"] = ("P", "with --replay SET, the chance that a micro-batch comes from SET"),
    };

    private readonly Option<string> _resume = CliOptions.Text("--resume", "RUN",
        "continue RUN exactly (the same losses as an uninterrupted run) from its latest checkpoint, with the config it recorded; a run killed " +
        "before its first checkpoint starts over. Ctrl-C (or SIGTERM) finishes the current step, saves a checkpoint and exits with code 130; a " +
        "NaN or infinite loss stops the run with exit code 1");
    private readonly Option<string> _config = CliOptions.Text("--config", "run.json", "a file with the same keys (snake_case: lr_horizon, eval_sets, ...); options given here override it");
    private readonly Option<bool> _json = CliOptions.Json();
    private readonly List<(string Key, ParsedOption<TrainingConfig> Option)> _settings = [];

    /// <summary>The command, its options bound to <see cref="Config"/>.</summary>
    public Command Command { get; }

    public TrainCommand()
    {
        Command = new Command("train",
            "specialize a student on a distillation set: sample or distribution matching, checkpoints, exact resume, OOD selection")
        {
            _resume, _config, _json,
        };
        var defaults = JsonNode.Parse(D.ToJson())!.AsObject();
        foreach (var key in TrainingConfig.Keys)
        {
            var (helpName, description) = Settings.TryGetValue(key, out var help) ? help : throw new InvalidOperationException($"train: no help for the setting '{key}'");
            var option = new ParsedOption<TrainingConfig>("--" + key.Replace('_', '-'), text => D.With(key, text), helpName, description, DefaultText(defaults[key]));
            _settings.Add((key, option));
            Command.Options.Add(option);
        }
        Command.SetAction(parsed => Run(parsed));
    }

    /// <summary>A setting's default as the command line writes it; none for an empty or unset one.</summary>
    private static string? DefaultText(JsonNode? value) => value switch
    {
        null => null,
        JsonArray list => list.Count == 0 ? null : string.Join(",", list.Select(item => item!.GetValue<string>())),
        JsonObject map => map.Count == 0 ? null : map.ToJsonString(),
        JsonValue text when text.GetValueKind() == JsonValueKind.String => text.GetValue<string>() is { Length: > 0 } given ? given : null,
        _ => value.ToJsonString(),
    };

    /// <summary>
    /// The training config the command line gives: the <c>--config</c> file's (else the defaults) with the options given
    /// here on top; null for <c>--resume</c>, which takes the config the run recorded.
    /// </summary>
    internal TrainingConfig? Config(ParseResult parsed)
    {
        var configFile = parsed.GetValue(_config);
        var given = _settings.Where(s => parsed.Given(s.Option)).ToList();
        if (parsed.GetValue(_resume) is not null)
        {
            if (given.Count > 0 || configFile is not null)
                throw new UsageException("--resume continues a run with the config it recorded; drop " +
                                         string.Join(", ", given.Select(s => s.Option.Name).Append(configFile is null ? null : "--config").OfType<string>()));
            return null;
        }
        var config = configFile is null ? D : TrainingConfig.ReadFile(configFile);
        foreach (var (key, option) in given) config = config.With(key, parsed.GetValue(option)!);
        try { config.Validate(); }
        catch (SpecialistException e) { throw new UsageException(e.Message); }
        return config;
    }

    private int Run(ParseResult parsed)
    {
        var config = Config(parsed);
        var json = parsed.GetValue(_json);
        using var stop = new StopSignals("train: stopping after this step and saving a checkpoint (signal again to quit at once)");
        var result = ProgressDisplay.Run("train", json, display => config is null
                ? TrainingRecipe.Resume(parsed.GetValue(_resume)!, e => Report(display, e), stop.Token)
                : TrainingRecipe.Start(config, e => Report(display, e), stop.Token),
            plainStep: 0.05);
        Print(result, json);
        return result.Interrupted ? CliApp.InterruptedExitCode : 0;
    }

    /// <summary>A training step moves the bar; an evaluation or a checkpoint is a line of its own.</summary>
    private static void Report(ProgressDisplay display, TrainingEvent e)
    {
        if (e.Train is { } t)
        {
            display.Report("train", string.Create(CultureInfo.InvariantCulture,
                $"step {e.Step}/{e.TotalSteps} loss {t.Loss:F4} lr {t.Lr:0.00e+00} {t.TokensPerSecond:N0} tok/s"), (double)e.Step / e.TotalSteps, e.Eta);
            return;
        }
        if (e.Eval is { } eval)
            display.Log("eval at step " + e.Step + ": " + string.Join(", ", eval.Accuracy.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key} {100 * a.Value:F1} %")))
                + (eval.OodMean is { } ood ? string.Create(CultureInfo.InvariantCulture, $"; OOD mean {100 * ood:F1} %") : ""));
        if (e.Checkpoint is { } checkpoint) display.Log($"saved {checkpoint}");
    }

    /// <summary><c>specialist bench train</c>: tokens/s and loss curves per student shape, loss and precision, and memory over a long run (<see cref="TrainBenchmark"/>).</summary>
    public static Command Benchmark()
    {
        var configs = CliOptions.Text("--configs", "A,B", "the student configs", string.Join(",", TrainBenchmark.DefaultConfigs));
        var steps = CliOptions.Int("--steps", "N", "steps timed per config, loss and dtype (after one warm-up step)", 5);
        var dtypes = CliOptions.Text("--dtype", "fp32,bf16", "the precisions: fp32, bf16 (mixed precision, as train --dtype bf16) or both, compared step by step",
            string.Join(",", TrainBenchmark.DefaultDtypes));
        var losses = CliOptions.Text("--losses", "sample,distribution", "the losses", string.Join(",", TrainBenchmark.DefaultLosses.Select(l => l.ToString().ToLowerInvariant())));
        var curves = CliOptions.Text("--curves", "FILE", "write every case's loss per step as CSV (config,loss,dtype,step,value; step 0 is the warm-up)");
        var memorySteps = CliOptions.Int("--memory-steps", "N", "steps of the memory run (0: none)", 500);
        var json = CliOptions.Json();
        var command = new Command("train", "training tokens/s and loss curves per student shape, loss and precision, and memory over a long run")
        {
            configs, steps, dtypes, losses, curves, memorySteps, json,
        };
        var data = new DataArgs(command, customSet: false);
        static string[] List(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        command.SetAction(parsed => Benchmark(data.Root(parsed), List(parsed.GetValue(configs)!), parsed.GetValue(steps), List(parsed.GetValue(dtypes)!),
            List(parsed.GetValue(losses)!), parsed.GetValue(curves), parsed.GetValue(memorySteps), parsed.GetValue(json)));
        return command;
    }

    private static void Benchmark(string dataRoot, IReadOnlyList<string> configs, int steps, IReadOnlyList<string> dtypes, IReadOnlyList<string> lossNames, string? curves,
        int memorySteps, bool json)
    {
        if (steps < 1 || memorySteps is > 0 and < 10) throw new UsageException("--steps must be at least 1 and --memory-steps 0 or at least 10");
        if (dtypes.Count == 0 || dtypes.Any(d => d is not ("fp32" or "bf16"))) throw new UsageException($"--dtype: '{string.Join(",", dtypes)}' is not fp32, bf16 or both");
        var losses = lossNames.Select(l => l switch
        {
            "sample" => LossKind.Sample,
            "distribution" => LossKind.Distribution,
            _ => throw new UsageException($"--losses: '{l}' is not sample or distribution"),
        }).Distinct().ToList();
        if (losses.Count == 0) throw new UsageException("--losses: none given");
        var stop = MachineLoad.Start();
        var result = ProgressDisplay.Run("bench train", json, display => TrainBenchmark.Run(Path.Combine(dataRoot, "tokenizers", "t5", Tokenizers.SentencePieceFileName),
            configs, steps, memorySteps: memorySteps, dtypes: [.. dtypes.Distinct()], losses: losses, progress: display.Log));
        var load = stop();
        if (curves is not null) AtomicFile.WriteText(curves, result.LossCurvesCsv());
        if (json)
        {
            BenchCommand.WriteJson(result, load);
            return;
        }
        var table = new Table().AddColumns("config", "loss", "dtype", "parameters", "tokens/s", "step", "loss alone", "last loss", "peak RSS");
        foreach (var f in result.Speed)
            table.AddRow(f.Config, f.Loss, f.Dtype, $"{f.Parameters / 1e6:F1}M", $"{f.TokensPerSecond:N0}", $"{f.StepMs:N0} ms", $"{f.LossMs:N1} ms",
                $"{f.StepLosses[^1]:F4}", $"{f.PeakRssMb:N0} MB");
        AnsiConsole.Write(table);
        foreach (var o in result.DistributionOverhead)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{o.Config}, {o.Dtype}: distribution matching costs {o.MeasuredPercent:+0.0;-0.0} % per step as measured, {o.LossOnlyPercent:+0.0;-0.0} % from the loss alone"));
        foreach (var p in result.Precision)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Config}, {p.Loss}: bf16 mixed precision {p.Speedup:F2}x fp32's tokens/s (run after one another); loss over the last tenth {p.FinalLossBf16:F4} against {p.FinalLossFp32:F4} ({p.GapPercent:+0.00;-0.00} %)"));
        if (result.Memory is { } m)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"memory, {m.Config} over {m.Steps} steps: {m.RssAfterWarmupMb:F0} MB after {m.WarmupSteps} steps, at most {m.RssMaxMb:F0} MB after ({m.GrowthPercent:+0.0;-0.0} %), {m.RssEndMb:F0} MB at the end ({result.Threads} threads)"));
        if (curves is not null) Console.WriteLine($"loss curves: {curves}");
        BenchCommand.WriteLoad(load);
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
}
