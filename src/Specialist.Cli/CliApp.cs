using Specialist;
using Specialist.Cli.Commands;

namespace Specialist.Cli;

/// <summary>Dispatches <c>specialist COMMAND ...</c> to the command that owns it; maps errors to exit codes.</summary>
internal static class CliApp
{
    /// <summary>A top-level command: its name, one line of help, what runs it, and whether it runs libtorch (and so wants jemalloc).</summary>
    private sealed record Command(string Name, string Summary, Func<string[], Task<int>> Run, bool UsesTorch = false);

    private static readonly Command[] Commands =
    [
        new("data", "data sets: 'data stats <set>' counts problems and answers", a => Task.FromResult(DataCommand.Run(a))),
        new("score", "score a predictions file against a set's gold answers", a => Task.FromResult(ScoreCommand.Run(a))),
        new("tokenize", "encode texts with a SentencePiece or tiktoken tokenizer", a => Task.FromResult(TokenizeCommand.Run(a))),
        new("model", "models in Hugging Face layout: 'model init' writes a random-init T5", a => Task.FromResult(ModelCommand.Run(a)), UsesTorch: true),
        new("generate", "generate text with a model folder (greedy or sampling, batched, KV cache)", a => Task.FromResult(GenerateCommand.Run(a)), UsesTorch: true),
        new("bench", "benchmarks: 'bench model' (training and decoding speed, MFU)", a => Task.FromResult(BenchCommand.Run(a)), UsesTorch: true),
        new("serve", "serve a model folder over an OpenAI-compatible HTTP API (completions, chat, logprobs)", ServeCommand.RunAsync, UsesTorch: true),
        new("annotate", "sample teacher CoT with log-probs into a resumable SQLite store (live or Batch API)", AnnotateCommand.RunAsync),
        new("store", "annotation stores: 'store stats', 'store export' (jsonl, parquet)", a => Task.FromResult(StoreCommand.Run(a))),
        new("align", "align teacher tokens with student tokens: sparse top-k targets (paper's rule or fast)", a => Task.FromResult(AlignCommand.Run(a))),
        new("eval", "CoT accuracy of a model folder or endpoint on math sets and BBH, with 95 % intervals; resumable", a => Task.FromResult(EvalCommand.Run(a)), UsesTorch: true),
        new("distill-set", "distillation sets: 'distill-set build' (four formats, aligned top-k targets), 'distill-set info'", a => Task.FromResult(DistillSetCommand.Run(a))),
        new("train", "specialize a student on a distillation set: sample or distribution matching, checkpoints, exact resume, OOD selection", a => Task.FromResult(TrainCommand.Run(a)), UsesTorch: true),
        new("report", "report.md with figures (PNG, SVG) from training runs and evaluations: dynamics, scaling, trade-off, loss", a => Task.FromResult(ReportCommand.Run(a))),
        new("synth", "seeded synthetic sets with gold CoT: GSM-like math, MultiArith/ASDiv/SVAMP-like OOD, BBH-like generic", a => Task.FromResult(SynthCommand.Run(a))),
        new("run", "the whole pipeline; with no options the built-in miniature world: teacher, students, the paper's six phenomena", RunCommand.RunAsync, UsesTorch: true),
        new("doctor", "show the runtime: version, allocator, libtorch, data root", a => Task.FromResult(DoctorCommand.Run(a)), UsesTorch: true),
    ];

    /// <summary>The exit code of an error that is no fault of the input: a bug (sysexits' EX_SOFTWARE).</summary>
    internal const int InternalErrorExitCode = 70;

    /// <summary>Set to 1 to see the stack trace of an unexpected error.</summary>
    internal const string TraceVariable = "SPECIALIST_TRACE";

    public static async Task<int> RunAsync(string[] args)
    {
        // An exception escaping a thread of its own would abort the process (exit 134, a stack trace) past every catch.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is Exception exception) ReportUnexpected(exception);
            Environment.Exit(InternalErrorExitCode);
        };
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp();
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "--version")
        {
            Allocator.PreferJemalloc();
            Console.WriteLine($"specialist {DoctorCommand.Version} (allocator: {Allocator.Current()})");
            return 0;
        }

        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"error: unknown command '{args[0]}' (see 'specialist --help')");
            return 2;
        }
        if (command.UsesTorch) Allocator.PreferJemalloc();
        try
        {
            return await command.Run(args[1..]);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message} (see 'specialist {command.Name} --help')");
            return 2;
        }
        catch (SpecialistException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            ReportUnexpected(e);
            return InternalErrorExitCode;
        }
    }

    /// <summary>
    /// One line for an exception that is not a <see cref="SpecialistException"/>. Bad input is meant to be reported as
    /// one, naming its file and field, so this is a bug; but the user still gets a line and an exit code below 128 rather
    /// than a stack trace, which <see cref="TraceVariable"/> shows.
    /// </summary>
    private static void ReportUnexpected(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        Console.Error.WriteLine($"error: unexpected {inner.GetType().Name}: {inner.Message.ReplaceLineEndings(" ")} " +
                                $"(a bug in specialist; {TraceVariable}=1 prints where)");
        if (Environment.GetEnvironmentVariable(TraceVariable) == "1") Console.Error.WriteLine(e);
    }

    /// <summary>Prints a warning: something is wrong, but the command goes on.</summary>
    internal static void Warn(string message) => Console.Error.WriteLine($"warning: {message}");

    private static void PrintHelp()
    {
        Console.WriteLine("specialist: specialize small language models towards multi-step reasoning (Fu et al., ICML 2023)");
        Console.WriteLine();
        Console.WriteLine("usage: specialist COMMAND [options]     (specialist --version: version and runtime)");
        Console.WriteLine();
        foreach (var c in Commands) Console.WriteLine($"  {c.Name,-12} {c.Summary}");
        Console.WriteLine();
        Console.WriteLine($"exit codes: 0 done, 1 bad input (the error names the file, line and field) or failed work, 2 wrong command line,");
        Console.WriteLine($"            {InternalErrorExitCode} unexpected error (a bug; {TraceVariable}=1 prints its stack trace), 130 interrupted");
    }
}
