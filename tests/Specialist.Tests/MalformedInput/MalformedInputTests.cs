using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Specialist.Tests.MalformedInput;

/// <summary>
/// One case of <c>cases/&lt;command&gt;/cases.json</c>: a command line over malformed input files in that folder, the
/// exit code it must end with, and what its error must say.
/// </summary>
/// <param name="Case">Its name, unique in its folder.</param>
/// <param name="Why">What it guards against (issue 19's abort causes and weak cases say so).</param>
/// <param name="Args">The command line. Paths are relative to a fresh copy of the folder, the working directory; <c>{spiece}</c>
/// is T5's real spiece.model and <c>{endpoint:NAME}</c> a teacher that answers every request with <c>responses/NAME</c>.</param>
/// <param name="Exit">The exit code: 1 for bad input, 2 for a wrong command line, 0 where only a warning is due.</param>
/// <param name="File">The file the error must name (absent where the input is no file: a teacher's answer).</param>
/// <param name="Field">The field (key, piece, tensor) the error must name; none when the whole file is wrong.</param>
/// <param name="Stderr">More text stderr must hold.</param>
/// <param name="Absent">Text neither stdout nor stderr may hold (a secret).</param>
/// <param name="Missing">Files that must not exist afterwards (an output a failing command must not leave behind).</param>
public sealed record MalformedCase(
    string Case, string Why, string[] Args, int Exit, string? File, string? Field, string[]? Stderr, string[]? Absent, string[]? Missing)
{
    /// <summary>The folder under <c>cases/</c>, named after the command.</summary>
    public string Folder { get; init; } = "";

    public override string ToString() => $"{Folder}/{Case}";
}

/// <summary>
/// Malformed input of every kind, against the real <c>specialist</c> process (issue 19): config files (train, run and
/// its teacher, distill and eval sections), checkpoint config.json and safetensors headers, SentencePiece models and
/// tokenizer.json, data sets, predictions, align inputs and teacher answers. No case may abort (exit ≥ 128), end in
/// an unexpected error (exit 70) or print a stack trace; each must exit as its manifest says, its error naming the
/// file and the field. SentencePiece models are kept as readable <c>*.spm.json</c> descriptions and built into
/// <c>*.model</c> files before the cases run.
/// </summary>
public sealed class MalformedInputTests
{
    private static readonly string CasesRoot = Path.Combine(TestPaths.RepoRoot, "tests", "Specialist.Tests", "MalformedInput", "cases");

    private static readonly JsonSerializerOptions ManifestJson = new() { PropertyNameCaseInsensitive = true, AllowDuplicateProperties = false };

    // A .NET stack trace: "   at Namespace.Type.Method(...)", or the runtime's own last words.
    private static readonly Regex StackTrace = new(@"^\s+at \S+\(|Unhandled exception", RegexOptions.Multiline);

    public static IReadOnlyList<MalformedCase> Cases { get; } = LoadCases();

    private static List<MalformedCase> LoadCases()
    {
        var cases = new List<MalformedCase>();
        foreach (var folder in Directory.EnumerateDirectories(CasesRoot).Order(StringComparer.Ordinal))
        {
            var manifest = Path.Combine(folder, "cases.json");
            var name = Path.GetFileName(folder);
            cases.AddRange(JsonSerializer.Deserialize<MalformedCase[]>(File.ReadAllText(manifest), ManifestJson)!.Select(c => c with { Folder = name }));
        }
        return cases;
    }

    [Fact]
    public void TheSuiteHoldsAtLeastAHundredCasesEachNamingWhatIsWrong()
    {
        Assert.True(Cases.Count >= 100, $"{Cases.Count} cases");
        Assert.Equal(Cases.Count, Cases.Select(c => c.ToString()).Distinct().Count());
        // A field, unless the whole file is wrong (a folder, not JSON: then its line, in Stderr); the file, unless the
        // input is a teacher's answer.
        foreach (var c in Cases.Where(c => c.Exit == 1))
        {
            Assert.True(c.Field is not null || c.Stderr is { Length: > 0 }, $"{c}: an error case says what its error must name");
            Assert.True(c.File is not null || c.Args.Any(a => a.StartsWith("{endpoint:", StringComparison.Ordinal)), $"{c}: an error case on a file names the file");
        }
    }

    [Fact]
    public async Task NoMalformedInputAbortsAndEveryErrorNamesItsFileAndField()
    {
        await using var teacher = await CannedTeacher.StartAsync(Path.Combine(CasesRoot, "annotate", "responses"));
        var failures = new ConcurrentBag<string>();
        // Each case is a process of its own; a few at a time keep the run short without starving the machine.
        await Parallel.ForEachAsync(Cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, (c, _) =>
        {
            if (Check(c, teacher) is { } failure) failures.Add(failure);
            return ValueTask.CompletedTask;
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {Cases.Count} cases failed:\n\n" + string.Join("\n\n", failures.Order(StringComparer.Ordinal)));
    }

    /// <summary>A user name and password in the endpoint never reach the store (runs.endpoint) or the output.</summary>
    [Fact]
    public async Task CredentialsInTheEndpointAreNeitherStoredNorShown()
    {
        await using var teacher = await CannedTeacher.StartAsync(Path.Combine(CasesRoot, "annotate", "responses"));
        var dir = CopyOfFolder("annotate");
        var endpoint = new UriBuilder(teacher.Endpoint("valid.json")) { UserName = "alice", Password = "hunter2-secret" }.Uri.AbsoluteUri;
        var result = CliRunner.Run(["annotate", "--set", "custom", "--path", "questions.jsonl", "--question-field", "q", "--answer-field", "a",
            "--model", "m", "--samples", "1", "--store", "store.db", "--prompt-file", "prompt.txt", "--endpoint", endpoint, "--max-retries", "0", "--json"],
            null, TimeSpan.FromMinutes(2), Environment(), dir);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("hunter2-secret", result.Stdout + result.Stderr);
        using var store = new SqliteConnection($"Data Source={Path.Combine(dir, "store.db")};Mode=ReadOnly;Pooling=False");
        store.Open();
        using var query = store.CreateCommand();
        query.CommandText = "SELECT endpoint FROM runs";
        var stored = (string)query.ExecuteScalar()!;
        Assert.DoesNotContain("hunter2-secret", stored);
        Assert.DoesNotContain("alice", stored);
        Assert.Contains("***@127.0.0.1", stored);
    }

    /// <summary>Runs one case; null when it behaves, else what went wrong with its whole output.</summary>
    private static string? Check(MalformedCase c, CannedTeacher teacher)
    {
        var dir = CopyOfFolder(c.Folder);
        var args = c.Args.Select(a => a
            .Replace("{spiece}", TestPaths.T5SpieceModel, StringComparison.Ordinal)
            .Replace("{data}", TestPaths.DataRoot, StringComparison.Ordinal)).ToArray();
        for (var i = 0; i < args.Length; i++)
            if (args[i].StartsWith("{endpoint:", StringComparison.Ordinal)) args[i] = teacher.Endpoint(args[i]["{endpoint:".Length..^1]);
        CliRunner.Result r;
        try
        {
            r = CliRunner.Run(args, null, TimeSpan.FromMinutes(1), Environment(), dir);
        }
        catch (TimeoutException)
        {
            // Input that should have been refused was taken: the command went to work (a run --config reaching for its teacher).
            return $"{c} ({c.Why}): still running after a minute, killed\n  specialist {string.Join(' ', args)}";
        }

        var problems = new List<string>();
        var output = r.Stdout + r.Stderr;
        if (r.ExitCode >= 128) problems.Add($"aborted (exit {r.ExitCode})");
        else if (r.ExitCode != c.Exit) problems.Add($"exit {r.ExitCode}, expected {c.Exit}");
        if (StackTrace.IsMatch(output)) problems.Add("printed a stack trace");
        foreach (var expected in new[] { c.File, c.Field }.OfType<string>().Concat(c.Stderr ?? []))
            if (!r.Stderr.Contains(expected, StringComparison.Ordinal)) problems.Add($"stderr lacks \"{expected}\"");
        foreach (var secret in c.Absent ?? [])
            if (output.Contains(secret, StringComparison.Ordinal)) problems.Add($"the output shows \"{secret}\"");
        foreach (var file in c.Missing ?? [])
            if (System.IO.File.Exists(Path.Combine(dir, file))) problems.Add($"left {file} behind");
        return problems.Count == 0 ? null : $"{c} ({c.Why}): {string.Join("; ", problems)}\n  specialist {string.Join(' ', args)}\n{r}";
    }

    private static Dictionary<string, string> Environment() => new()
    {
        ["SPECIALIST_DATA"] = TestPaths.DataRoot,
        ["SPECIALIST_TRACE"] = "",
        ["OPENAI_API_KEY"] = "",
        ["OPENAI_BASE_URL"] = "",
    };

    /// <summary>A fresh copy of a case folder, with every <c>*.spm.json</c> description built into its <c>*.model</c>.</summary>
    private static string CopyOfFolder(string folder)
    {
        var source = Path.Combine(CasesRoot, folder);
        var copy = Path.Combine(TestPaths.NewTempDir(), folder);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (file.EndsWith(".spm.json", StringComparison.Ordinal))
                System.IO.File.WriteAllBytes(target[..^".spm.json".Length] + ".model", SentencePieceDescription.Build(System.IO.File.ReadAllText(file)));
            else System.IO.File.Copy(file, target);
        }
        return copy;
    }
}

/// <summary>
/// Builds a SentencePiece <c>.model</c> (a <c>sentencepiece.ModelProto</c>) from a readable description:
/// <c>{"pieces": [[piece, score, type], ...], "trainer_spec": {...}, "normalizer_spec": {...}}</c>, a spec left out
/// when absent, a score given as a number or as "NaN" / "Infinity". Field numbers are sentencepiece_model.proto's.
/// </summary>
internal static class SentencePieceDescription
{
    private static readonly Dictionary<string, int> TrainerFields = new()
    {
        ["model_type"] = 3, ["treat_whitespace_as_suffix"] = 24, ["byte_fallback"] = 35, ["unk_id"] = 40, ["bos_id"] = 41, ["eos_id"] = 42, ["pad_id"] = 43,
    };

    private static readonly Dictionary<string, int> NormalizerFields = new()
    {
        ["add_dummy_prefix"] = 3, ["remove_extra_whitespaces"] = 4, ["escape_whitespaces"] = 5,
    };

    public static byte[] Build(string description)
    {
        var root = JsonNode.Parse(description)!.AsObject();
        var model = new MemoryStream();
        foreach (var entry in root["pieces"]!.AsArray())
        {
            var piece = new MemoryStream();
            Bytes(piece, 1, Encoding.UTF8.GetBytes(entry![0]!.GetValue<string>()));
            var score = entry[1]!.GetValueKind() == JsonValueKind.String ? float.Parse(entry[1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) : entry[1]!.GetValue<float>();
            Key(piece, 2, 5);
            piece.Write(BitConverter.GetBytes(score));
            Varint(piece, 3, entry[2]!.GetValue<long>());
            Bytes(model, 1, piece.ToArray());
        }
        if (root["trainer_spec"] is JsonObject trainer) Bytes(model, 2, Spec(trainer, TrainerFields));
        if (root["normalizer_spec"] is JsonObject normalizer) Bytes(model, 3, Spec(normalizer, NormalizerFields));
        return model.ToArray();
    }

    private static byte[] Spec(JsonObject spec, Dictionary<string, int> fields)
    {
        var stream = new MemoryStream();
        foreach (var (name, value) in spec)
            Varint(stream, fields[name], value!.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? (value.GetValue<bool>() ? 1 : 0) : value.GetValue<long>());
        return stream.ToArray();
    }

    private static void Key(Stream s, int number, int wireType) => Raw(s, (ulong)((number << 3) | wireType));

    // int32 fields travel as varints of their 64-bit two's complement, so -1 takes ten bytes.
    private static void Varint(Stream s, int number, long value) { Key(s, number, 0); Raw(s, unchecked((ulong)value)); }

    private static void Bytes(Stream s, int number, byte[] value) { Key(s, number, 2); Raw(s, (ulong)value.Length); s.Write(value); }

    private static void Raw(Stream s, ulong value)
    {
        for (; value >= 0x80; value >>= 7) s.WriteByte((byte)(value | 0x80));
        s.WriteByte((byte)value);
    }
}
