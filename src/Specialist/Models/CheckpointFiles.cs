using System.Text.Json;
using System.Text.Json.Nodes;
using Specialist.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Models;

/// <summary>
/// The weight files of a Hugging Face model folder, for every model family: <c>model.safetensors</c>, or shards listed
/// by <c>model.safetensors.index.json</c>, checked against the tensors a family's config says it has before any weight
/// is allocated, then read straight into the model's parameters. Pickled <c>pytorch_model.bin</c> files are refused
/// (loading a pickle can run code).
/// </summary>
internal static class CheckpointFiles
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>A tensor found in the folder: the file holding it, and whether the model uses it (tied copies are skipped).</summary>
    public readonly record struct Found(SafeTensors.Entry Entry, string File, bool Used);

    /// <summary>The folder's config file, which must exist.</summary>
    public static string ConfigPath(string directory, string configFileName)
    {
        if (!Directory.Exists(directory)) throw new SpecialistException($"model folder {directory} does not exist");
        var configPath = Path.Combine(directory, configFileName);
        return File.Exists(configPath) ? configPath : throw new SpecialistException($"model folder {directory} has no {configFileName}");
    }

    /// <summary>
    /// Reads every safetensors header of <paramref name="directory"/> and checks it against the tensors the model has
    /// (<paramref name="expected"/>) and those a checkpoint may carry that it does not use (<paramref name="ignorable"/>):
    /// throws naming every missing, unexpected and mis-shaped tensor at once, with <paramref name="config"/> (the
    /// config's description). <paramref name="pickleAdvice"/> says how to convert a pickled checkpoint (<c>DIR</c> is
    /// replaced by the folder).
    /// </summary>
    public static Dictionary<string, Found> Match(string directory, string config, IReadOnlyDictionary<string, long[]> expected,
        IReadOnlyDictionary<string, long[]> ignorable, string pickleAdvice)
    {
        var headers = ReadHeaders(directory, pickleAdvice);
        var entries = new Dictionary<string, Found>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var wrongShape = new List<string>();
        foreach (var header in headers)
        {
            foreach (var entry in header.Tensors.Values)
            {
                var required = expected.TryGetValue(entry.Name, out var wanted);
                if (!required && !ignorable.TryGetValue(entry.Name, out wanted)) { unexpected.Add(entry.Name); continue; }
                var shape = wanted!;
                if (!shape.SequenceEqual(entry.Shape)) wrongShape.Add($"{entry.Name} [{string.Join(", ", entry.Shape)}] expected [{string.Join(", ", shape)}]");
                entries[entry.Name] = new Found(entry, header.Path, Used: required);
            }
        }
        var missing = expected.Keys.Where(k => !entries.ContainsKey(k)).ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing: [{Abbreviate(missing)}]");
            if (unexpected.Count > 0) parts.Add($"unexpected: [{Abbreviate(unexpected)}]");
            if (wrongShape.Count > 0) parts.Add($"wrong shape: {Abbreviate(wrongShape)}");
            throw new SpecialistException($"checkpoint {directory} does not match its config.json ({config}): {string.Join("; ", parts)}");
        }
        return entries;
    }

    /// <summary>A model folder's summary from its config and its <see cref="Match"/>ed tensors: the used ones' count and dtypes, every file and byte.</summary>
    public static CheckpointSummary<TConfig> Summarize<TConfig>(string directory, TConfig config, Dictionary<string, Found> entries) where TConfig : IModelConfig
    {
        var used = entries.Values.Where(e => e.Used).ToList();
        return new CheckpointSummary<TConfig>(
            directory, config,
            used.Sum(e => e.Entry.Shape.Aggregate(1L, (a, b) => a * b)),
            string.Join(", ", used.Select(e => e.Entry.DType).Distinct().Order(StringComparer.Ordinal)),
            [.. entries.Values.Select(e => Path.GetFileName(e.File)).Distinct().Order(StringComparer.Ordinal)],
            entries.Values.Sum(e => e.Entry.Length));
    }

    /// <summary>
    /// Copies <paramref name="tokenizerPath"/> into the model folder <paramref name="directory"/> under the name a model
    /// folder keeps it by, as <see cref="Tokenizers.Load"/> tells the kinds apart: a <c>*.json</c> tokenizer as
    /// tokenizer.json, Llama 2's tokenizer.model as it is, any other SentencePiece model as spiece.model. The files beside
    /// it that say how the tokenizer is used (<c>tokenizer_config.json</c>: special tokens and the chat template;
    /// <c>chat_template.jinja</c>) come along, so a trained student is read with the prompt it was trained on
    /// (<see cref="StudentEncoding"/>).
    /// </summary>
    public static void CopyTokenizer(string tokenizerPath, string directory)
    {
        var name = tokenizerPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? WordLevelTokenizer.FileName
            : Path.GetFileName(tokenizerPath) == Tokenizers.SentencePieceBpeFileName ? Tokenizers.SentencePieceBpeFileName
            : Tokenizers.SentencePieceFileName;
        if (!File.Exists(tokenizerPath)) throw new SpecialistException($"tokenizer file {tokenizerPath} does not exist");
        var target = Path.Combine(directory, name);
        if (Path.GetFullPath(tokenizerPath) != Path.GetFullPath(target)) AtomicFile.Copy(tokenizerPath, target);
        var from = Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!;
        if (from == Path.GetFullPath(directory)) return;
        foreach (var companion in new[] { TokenizerConfigFile.FileName, TokenizerConfigFile.TemplateFileName })
            if (File.Exists(Path.Combine(from, companion))) AtomicFile.Copy(Path.Combine(from, companion), Path.Combine(directory, companion));
    }

    /// <summary>
    /// Reads the used tensors of <paramref name="entries"/> into <paramref name="model"/>'s parameters (stored dtypes are
    /// converted after reading), then moves it to <paramref name="device"/> (null: the CPU) and puts it in eval mode.
    /// Weights that hold NaN or infinity (a diverged or corrupt save: such a model generates empty text without a word)
    /// are refused, or, when <paramref name="nonFinite"/> is given, told to it and loaded. The model is disposed on failure.
    /// </summary>
    public static void LoadInto(nn.Module model, Dictionary<string, Found> entries, Device? device, Action<string>? nonFinite)
    {
        try
        {
            using (NewDisposeScope())
            using (no_grad())
            {
                var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
                foreach (var file in entries.Values.Where(e => e.Used).GroupBy(e => e.File))
                {
                    using var stream = SafeTensors.OpenRead(file.Key);
                    foreach (var (entry, _, _) in file.OrderBy(e => e.Entry.Offset))
                    {
                        var parameter = parameters[entry.Name];
                        if (parameter.dtype == entry.Type)
                        {
                            SafeTensors.ReadInto(stream, entry, parameter);
                            continue;
                        }
                        using var stored = empty(entry.Shape, entry.Type);
                        SafeTensors.ReadInto(stream, entry, stored);
                        parameter.copy_(stored);
                    }
                }
                var broken = parameters.Where(p => !isfinite(p.Value).all().item<bool>()).GroupBy(p => entries[p.Key].File, p => p.Key).ToList();
                if (broken.Count > 0)
                {
                    var problem = string.Join("; ", broken.Select(file =>
                        $"{file.Key}: {file.Count()} weight tensors hold NaN or infinite values ([{Abbreviate([.. file], 5)}])")) + "; the model's outputs will be meaningless";
                    if (nonFinite is null) throw new SpecialistException(problem);
                    nonFinite(problem);
                }
            }
            // Read on the CPU (straight into the weights' memory), then moved in one go, outside the scope above,
            // which would dispose the moved weights.
            if (device is not null) model.to(device);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
    }

    /// <summary>
    /// Writes <paramref name="model"/>'s parameters into <paramref name="directory"/> (created if needed):
    /// model.safetensors, or shards of at most <paramref name="maxShardBytes"/> with their index when larger; weight
    /// files of the other layout left from an earlier save are removed. Each file is written atomically.
    /// </summary>
    public static void WriteWeights(nn.Module model, string directory, long maxShardBytes)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes));
        Directory.CreateDirectory(directory);
        using var scope = NewDisposeScope();
        var tensors = model.named_parameters().Select(p => (p.name, p.parameter.detach().cpu().contiguous())).ToList();

        var shards = new List<List<(string Name, Tensor Tensor)>>();
        long shardBytes = 0;
        foreach (var t in tensors)
        {
            var bytes = t.Item2.numel() * t.Item2.ElementSize;
            if (shards.Count == 0 || (shardBytes + bytes > maxShardBytes && shardBytes > 0)) { shards.Add([]); shardBytes = 0; }
            shards[^1].Add(t);
            shardBytes += bytes;
        }

        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        var written = new HashSet<string>(StringComparer.Ordinal);
        if (shards.Count == 1)
        {
            SafeTensors.Write(Path.Combine(directory, WeightsFileName), shards[0], metadata);
            written.Add(WeightsFileName);
        }
        else
        {
            var weightMap = new JsonObject();
            long total = 0;
            for (var i = 0; i < shards.Count; i++)
            {
                var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                total += SafeTensors.Write(Path.Combine(directory, name), shards[i], metadata);
                written.Add(name);
                foreach (var (key, _) in shards[i]) weightMap[key] = name;
            }
            var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
            AtomicFile.WriteText(Path.Combine(directory, IndexFileName), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            written.Add(IndexFileName);
        }
        foreach (var stale in Directory.EnumerateFiles(directory, "model*.safetensors*").Select(Path.GetFileName))
            if (!written.Contains(stale!) && (stale is WeightsFileName or IndexFileName || IsShardName(stale!)))
                File.Delete(Path.Combine(directory, stale!));
    }

    private static bool IsShardName(string name) =>
        name.StartsWith("model-", StringComparison.Ordinal) && name.Contains("-of-", StringComparison.Ordinal) && name.EndsWith(".safetensors", StringComparison.Ordinal);

    public static string Abbreviate(List<string> items, int max = 20) =>
        string.Join(", ", items.Take(max)) + (items.Count > max ? $", … ({items.Count - max} more)" : "");

    private static List<SafeTensors.Header> ReadHeaders(string directory, string pickleAdvice)
    {
        var indexPath = Path.Combine(directory, IndexFileName);
        if (File.Exists(indexPath)) return ReadShards(directory, indexPath);
        var single = Path.Combine(directory, WeightsFileName);
        if (File.Exists(single)) return [SafeTensors.ReadHeader(single)];
        if (Directory.EnumerateFiles(directory, "pytorch_model*.bin*").Any())
            throw new SpecialistException(
                $"model folder {directory} holds only pytorch_model.bin, a pickle, which is never loaded here (unpickling can run arbitrary code). " +
                pickleAdvice.Replace("DIR", directory, StringComparison.Ordinal));
        throw new SpecialistException($"model folder {directory} has no {WeightsFileName} (nor a sharded {IndexFileName})");
    }

    private static List<SafeTensors.Header> ReadShards(string directory, string indexPath)
    {
        var weightMap = JsonSection.ReadFile(indexPath).Child("weight_map", required: true);
        var files = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var key in weightMap.Names)
        {
            var file = weightMap.String(key);
            // Shards live beside the index; a path elsewhere is refused rather than followed.
            if (file is null || file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
                throw weightMap.Error(key, $"is {weightMap.Node[key]?.ToJsonString() ?? "null"}, expected a file name in the same folder");
            if (!files.TryGetValue(file, out var keys)) files[file] = keys = [];
            keys.Add(key);
        }
        var headers = new List<SafeTensors.Header>();
        var problems = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (file, keys) in files)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) { problems.Add($"shard {file} (listed for {keys.Count} tensors) does not exist"); continue; }
            var header = SafeTensors.ReadHeader(path);
            headers.Add(header);
            foreach (var key in keys.Where(k => !header.Tensors.ContainsKey(k))) problems.Add($"{key} is mapped to {file}, which does not hold it");
            foreach (var name in header.Tensors.Keys)
                if (!seen.TryAdd(name, file)) problems.Add($"{name} is in both {seen[name]} and {file}");
        }
        if (problems.Count > 0) throw new SpecialistException($"{indexPath}: {Abbreviate(problems)}");
        return headers;
    }
}
