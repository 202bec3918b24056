using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Models;
using Specialist.Teachers.Serving;
using Specialist.Tests.Training;
using Specialist.Tokenization;

namespace Specialist.Tests.Models;

/// <summary>
/// A decoder-only (Qwen2-shaped) student through the commands: <c>model init --config qwen2.json</c>, <c>model info</c>,
/// <c>generate</c>, and <c>specialist serve</c>'s server on 127.0.0.1, which answers as the model does; what is refused.
/// </summary>
public class DecoderOnlyStudentTests
{
    private const string Prompt = "Question: Natalia sold clips to 48 of her friends in April. How many clips did she sell?\nLet's think step by step";

    [Fact]
    public void Model_init_writes_a_hugging_face_folder_that_model_info_describes()
    {
        var dir = TrainingTestKit.DecoderOnlyStudent;
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "spiece.model")));
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal("Qwen2ForCausalLM", written["architectures"]![0]!.GetValue<string>());

        var info = CliRunner.Run("model", "info", "--model", dir, "--json");
        Assert.True(info.ExitCode == 0, info.ToString());
        var facts = JsonNode.Parse(info.Stdout)!;
        Assert.Equal("qwen2", facts["model_type"]!.GetValue<string>());
        Assert.Equal(2, facts["num_key_value_heads"]!.GetValue<int>());
        Assert.Equal(LlamaModel.ParameterShapes(LlamaCheckpoint.ReadConfig(dir)).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)), facts["parameters"]!.GetValue<long>());
    }

    [Fact]
    public void A_config_the_tokenizer_does_not_suit_or_of_another_family_is_refused_naming_the_field()
    {
        var temp = TestPaths.NewTempDir();
        var config = TrainingTestKit.DecoderOnlyConfig(vocabSize: 32128, hidden: 32, intermediate: 64, layers: 1);
        config["eos_token_id"] = 2;
        var path = Path.Combine(temp, "config.json");
        File.WriteAllText(path, config.ToJsonString());
        var wrongEos = CliRunner.Run("model", "init", "--config", path, "--tokenizer", TestPaths.T5SpieceModel, "--out", Path.Combine(temp, "a"));
        Assert.Equal(1, wrongEos.ExitCode);
        Assert.Contains("ends sequences with id 1, but the config's eos_token_id is [2]", wrongEos.Stderr);

        config["eos_token_id"] = 1;
        config["vocab_size"] = 1000;
        File.WriteAllText(path, config.ToJsonString());
        var small = CliRunner.Run("model", "init", "--config", path, "--tokenizer", TestPaths.T5SpieceModel, "--out", Path.Combine(temp, "b"));
        Assert.Equal(1, small.ExitCode);
        Assert.Contains("more than the config's vocab_size 1000", small.Stderr);

        config["model_type"] = "gpt2";
        File.WriteAllText(path, config.ToJsonString());
        var other = CliRunner.Run("model", "init", "--config", path, "--tokenizer", TestPaths.T5SpieceModel, "--out", Path.Combine(temp, "c"));
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("model_type", other.Stderr);
        Assert.Contains("is 'gpt2', not 't5', 'llama' or 'qwen2'", other.Stderr);
        Assert.False(Directory.Exists(Path.Combine(temp, "a")) || Directory.Exists(Path.Combine(temp, "b")) || Directory.Exists(Path.Combine(temp, "c")));
    }

    [Fact]
    public async Task Serve_answers_over_http_as_generate_and_the_model_do_greedily_with_top_k_log_probs()
    {
        var dir = TrainingTestKit.DecoderOnlyStudent;
        var generated = CliRunner.Run("generate", "--model", dir, "--prompt", Prompt, "--max-new-tokens", "10", "--json");
        Assert.True(generated.ExitCode == 0, generated.ToString());
        var line = JsonNode.Parse(generated.Stdout)!;

        await using var server = await TeacherServer.StartAsync(new ServeOptions { ModelDirectory = dir, Port = 0, MaxTokens = 32 });
        Assert.Equal("127.0.0.1", server.Url.Host);
        using var http = new HttpClient { BaseAddress = server.Url };
        var body = new JsonObject { ["model"] = server.ModelName, ["prompt"] = Prompt, ["max_tokens"] = 10, ["temperature"] = 0, ["logprobs"] = 3 };
        using var response = await http.PostAsync("/v1/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!;

        // The model's own greedy continuation of the prompt (without the end of sequence T5's tokenizer appends).
        var tokenizer = Tokenizers.LoadFromModelFolder(dir);
        using var model = StudentModel.Load(dir);
        var encoding = StudentEncoding.Read(dir, tokenizer);
        var encoded = tokenizer.Encode(Prompt).Ids;
        Assert.Equal(encoded.Take(encoded.Count - 1), encoding.Prompt(Prompt));
        var expected = encoding.Generate(model, [Prompt], new GenerationOptions { MaxNewTokens = 10, TopLogprobs = 3 }).Single();
        Assert.Equal(tokenizer.Decode(expected.Tokens), line["output"]!.GetValue<string>());
        var texts = TokenTexts.Build(tokenizer, model.Config.VocabSize);
        var shown = expected.Finished ? expected.Tokens.Take(expected.Tokens.Count - 1) : expected.Tokens;
        Assert.Equal(string.Concat(shown.Select(id => texts[id])), choice["text"]!.GetValue<string>());
        var logprobs = choice["logprobs"]!;
        for (var i = 0; i < logprobs["tokens"]!.AsArray().Count; i++)
        {
            Assert.Equal(3, logprobs["top_logprobs"]![i]!.AsObject().Count);
            Assert.Equal(expected.Logprobs![i].Chosen.Logprob, logprobs["token_logprobs"]![i]!.GetValue<double>(), 4);
        }
    }
}
