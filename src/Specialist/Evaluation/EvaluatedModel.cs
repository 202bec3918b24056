using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Specialist.Models;
using Specialist.Teachers;
using Specialist.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Evaluation;

/// <summary>
/// What <see cref="EvaluationRun"/> evaluates: its identity (name, fingerprint, decoding) and, opened only when
/// something is left to decode, its <see cref="IAnswerSource"/>.
/// </summary>
public sealed class EvaluatedModel : IDisposable
{
    private readonly Func<(IAnswerSource Source, IDisposable? Owned)> _open;
    private (IAnswerSource Source, IDisposable? Owned)? _opened;

    private EvaluatedModel(string name, string fingerprint, long? parameters, string decoding, int maxNewTokens, Func<(IAnswerSource, IDisposable?)> open)
    {
        Name = name;
        Fingerprint = fingerprint;
        Parameters = parameters;
        Decoding = decoding;
        MaxNewTokens = maxNewTokens;
        _open = open;
    }

    /// <summary>A model folder's full path, or <c>MODEL @ ENDPOINT</c>.</summary>
    public string Name { get; }

    /// <summary>Identifies the weights or the endpoint's model: predictions are reused only for the same fingerprint.</summary>
    public string Fingerprint { get; }

    /// <summary>The parameter count (local models).</summary>
    public long? Parameters { get; }

    /// <summary>
    /// <c>greedy (float32)</c> (local, with the weights' dtype, and the device when it is not the CPU: <c>greedy (float32, cuda:0)</c>)
    /// or <c>temperature 0</c> (endpoint).
    /// </summary>
    public string Decoding { get; }

    /// <summary>The most tokens generated per problem.</summary>
    public int MaxNewTokens { get; }

    /// <summary>The source, opened (the model loaded) on first use.</summary>
    internal IAnswerSource Source => (_opened ??= _open()).Source;

    /// <summary>Whether <see cref="Source"/> was ever opened (nothing was left to decode when it was not).</summary>
    internal bool Opened => _opened is not null;

    /// <summary>
    /// A Hugging Face model folder of a student family (T5, Llama, Qwen2: config.json, safetensors weights, the
    /// tokenizer), decoded greedily in batches on <paramref name="device"/> (null: the CPU). The fingerprint hashes
    /// config.json and every weight file, so retrained weights in the same folder are new work; the decoding names a
    /// device other than the CPU, whose rounding can change an answer, so answers are reused on the device that made
    /// them only. Weights holding NaN or infinity are refused, or told to <paramref name="nonFinite"/> (<see cref="StudentModel.Load"/>).
    /// </summary>
    public static EvaluatedModel FromFolder(string directory, int batchSize = 16, int maxNewTokens = 256, ScalarType dtype = ScalarType.Float32,
        Device? device = null, Action<string>? nonFinite = null)
    {
        var summary = StudentModel.Inspect(directory);
        var full = Path.GetFullPath(directory);
        var on = device is null || device.type == DeviceType.CPU ? "" : $", {device}";
        return new EvaluatedModel(full, summary.Config.ModelType + ":" + HashFolder(full, summary.Files), summary.ParameterCount, $"greedy ({T5Checkpoint.TorchDTypeName(dtype)}{on})", maxNewTokens, () =>
        {
            var tokenizer = Tokenizers.LoadFromModelFolder(full);
            StudentModel.EnsureFits(summary.Config, tokenizer, Tokenizers.ModelTokenizerFile(full));
            var encoding = StudentEncoding.For(summary.Config, full, tokenizer);
            var model = StudentModel.Load(full, dtype, device, nonFinite);
            return (new ModelAnswerSource(model, encoding, batchSize, maxNewTokens), model);
        });
    }

    /// <summary>A model behind an OpenAI-compatible endpoint, at temperature 0 (see <see cref="EndpointAnswerSource"/>).</summary>
    public static EvaluatedModel FromEndpoint(TeacherClientOptions options, string model, TeacherApi api = TeacherApi.Completions, int maxNewTokens = 256, int concurrency = 8)
    {
        var name = $"{model} @ {TeacherClientOptions.Redact(options.Endpoint)}";
        return new EvaluatedModel(name, $"endpoint:{AnnotationConfig.ApiName(api)}:{name}", null, "temperature 0", maxNewTokens, () =>
        {
            var client = new TeacherClient(options);
            return (new EndpointAnswerSource(client, model, api, maxNewTokens, concurrency), client);
        });
    }

    /// <summary>Any other source (training's in-memory model, tests), identified by <paramref name="fingerprint"/>.</summary>
    public static EvaluatedModel FromSource(IAnswerSource source, string fingerprint, long? parameters, string decoding, int maxNewTokens) =>
        new(source.Name, fingerprint, parameters, decoding, maxNewTokens, () => (source, null));

    /// <summary>The commit the code was built from (the SDK records it in the informational version), or <c>unknown</c>.</summary>
    public static string CodeCommit()
    {
        var version = typeof(EvaluatedModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var plus = version?.IndexOf('+') ?? -1;
        return plus >= 0 && plus + 1 < version!.Length ? version[(plus + 1)..] : "unknown";
    }

    /// <summary>SHA-256 over config.json and the weight files (names and bytes), first 16 hex digits.</summary>
    private static string HashFolder(string directory, IReadOnlyList<string> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files.Order(StringComparer.Ordinal).Prepend(T5Checkpoint.ConfigFileName))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\n"));
            using var stream = File.OpenRead(Path.Combine(directory, file));
            int read;
            while ((read = stream.Read(buffer)) > 0) hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    public void Dispose() => _opened?.Owned?.Dispose();
}
