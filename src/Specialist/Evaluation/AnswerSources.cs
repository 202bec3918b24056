using Specialist.Models;
using Specialist.Tokenization;

namespace Specialist.Evaluation;

/// <summary>Something that answers prompts: a local model, or an OpenAI-compatible endpoint (temperature 0).</summary>
public interface IAnswerSource
{
    /// <summary>What answers, for messages and reports.</summary>
    string Name { get; }

    /// <summary>One output per prompt, in prompt order.</summary>
    IReadOnlyList<string> Answer(IReadOnlyList<string> prompts);

    /// <summary>
    /// How many prompts <see cref="SetEvaluator"/> hands over per <see cref="Answer"/> call. Finished problems are
    /// reported after each call, so this is also the most work an interrupted evaluation loses.
    /// </summary>
    int PromptsPerCall => 16;
}

/// <summary>A student model of either family answering greedily, in batches, with the KV cache (<see cref="StudentModel.Generate"/>).</summary>
public sealed class ModelAnswerSource : IAnswerSource
{
    private readonly StudentEncoding _encoding;
    private readonly StudentModel _model;
    private readonly GenerationOptions _options;

    /// <param name="model">The model; it is not disposed here.</param>
    /// <param name="encoding">How it reads prompts (<see cref="StudentEncoding.Read"/> of its folder), with its tokenizer.</param>
    /// <param name="batchSize">Prompts decoded together.</param>
    /// <param name="maxNewTokens">The most tokens generated per prompt (end-of-sequence included).</param>
    public ModelAnswerSource(StudentModel model, StudentEncoding encoding, int batchSize = 16, int maxNewTokens = 256)
        : this(model, encoding, new GenerationOptions { BatchSize = batchSize, MaxNewTokens = maxNewTokens })
    {
    }

    /// <summary>A T5 model with its tokenizer (see the other constructor).</summary>
    public ModelAnswerSource(T5Model model, ITokenizer tokenizer, int batchSize = 16, int maxNewTokens = 256)
        : this(new T5Student(model), StudentEncoding.T5(tokenizer), batchSize, maxNewTokens)
    {
    }

    /// <summary>With any greedy options (the benchmark forces a length with <see cref="GenerationOptions.MinNewTokens"/>).</summary>
    internal ModelAnswerSource(StudentModel model, StudentEncoding encoding, GenerationOptions options)
    {
        if (options.Sample) throw new ArgumentException("evaluation decodes greedily", nameof(options));
        options.Validate(model.Config.VocabSize);
        _encoding = encoding;
        _model = model;
        _options = options;
        Name = $"{model.Config.ModelType} ({model.ParameterCount:N0} parameters)";
    }

    public string Name { get; }

    public int PromptsPerCall => _options.BatchSize;

    public IReadOnlyList<string> Answer(IReadOnlyList<string> prompts)
    {
        var generated = _encoding.Generate(_model, prompts, _options);
        return [.. generated.Select(g => _encoding.Tokenizer.Decode(g.Tokens))];
    }
}
