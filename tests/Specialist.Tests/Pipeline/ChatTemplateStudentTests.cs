using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Specialist.Alignment;
using Specialist.Answers;
using Specialist.Data;
using Specialist.Evaluation;
using Specialist.Models;
using Specialist.Prompts;
using Specialist.Teachers.Serving;
using Specialist.Tests.Tokenization;
using Specialist.Tests.Training;
using Specialist.Tokenization;
using Specialist.Training;

namespace Specialist.Tests.Pipeline;

/// <summary>
/// Decoder-only students whose folders hold a Hugging Face byte-level BPE <c>tokenizer.json</c> and a
/// <c>tokenizer_config.json</c> (issue 17, point 2): the student's own prompt rule (<see cref="StudentEncoding"/>) writes
/// the distillation set, the trained checkpoint carries it, and evaluation, <c>generate</c> and <c>serve</c> read
/// prompts with it and stop at its end of answer.
/// </summary>
public sealed class ChatTemplateStudentTests
{
    private static readonly (string, string)[] Merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("n", "s")];

    private const string Question = "Tom has 3 apples and gets 4 more. How many apples?";

    [Fact]
    public async Task A_qwen2_chatml_student_trains_on_its_template_and_generates_evaluates_and_serves_until_im_end()
    {
        // Qwen2 base: the end of sequence is <|endoftext|>, the template's end of answer <|im_end|>, which config.json does not list.
        var files = HuggingFaceTokenizerFolder.Qwen2(Merges, HuggingFaceTokenizerFolder.Qwen2Template, eosToken: "<|endoftext|>");
        var (student, dataRoot) = Student(files, "qwen2", "<|endoftext|>");
        var (endOfText, imEnd, imStart) = (files.IdOf("<|endoftext|>"), files.IdOf("<|im_end|>"), files.IdOf("<|im_start|>"));
        Assert.True(File.Exists(Path.Combine(student, "tokenizer_config.json")), "model init copies the tokenizer's config with the tokenizer");

        var set = Path.Combine(TestPaths.NewTempDir(), "set");
        TrainingTestKit.Check(CliRunner.Run("distill-set", "build", "--gold", SetName, "--student", student, "--out", set, "--formats", "zs-cot,zs-ao",
            "--batch-size", "zs-cot=4,zs-ao=4", "--dev-set", "none", "--data-root", dataRoot));
        var tokenizer = Tokenizers.LoadFromModelFolder(student);
        var chat = ChatPrompt.FromModelFolder(student, tokenizer);
        using (var distill = DistillSet.Open(set))
        {
            Assert.Equal("chatml", distill.Manifest.StudentPrompt);
            var answerOnly = distill.Read(TrainingFormat.ZeroShotAnswerOnly, 0);
            // The prompt is the template around the input, its special tokens single ids; the target ends with <|im_end|>.
            Assert.Equal(tokenizer.Encode(chat.Render(TrainingPrompts.Input(TrainingFormat.ZeroShotAnswerOnly, Questions[0].Question))).Ids, answerOnly.EncoderIds);
            Assert.Equal(imStart, answerOnly.EncoderIds[0]);
            Assert.Equal([.. tokenizer.Encode("The answer is 7").Ids, imEnd], answerOnly.DecoderIds);
            foreach (var format in distill.Formats)
                for (var i = 0; i < distill.Count(format); i++)
                {
                    var example = distill.Read(format, i);
                    Assert.Equal(imEnd, example.DecoderIds[^1]);
                    Assert.DoesNotContain(endOfText, example.DecoderIds);
                }
        }

        // Enough steps for the tiny student to learn its two constant answers, <|im_end|> included.
        var run = Path.Combine(TestPaths.NewTempDir(), "run");
        TrainingTestKit.Check(CliRunner.Run(["train", "--student", student, "--data", set, "--out", run, "--data-root", dataRoot, "--steps", "120",
            "--lr", "1e-2", "--warmup", "2", "--eval-sets", "", "--threads", "1"], null, TimeSpan.FromMinutes(5)));
        var checkpoint = Path.Combine(run, "checkpoints", "step-000120");

        // The checkpoint carries the template: generation reads the prompt with it and stops at <|im_end|>, which the
        // model goes on past when only config.json's end of sequence stops it.
        var prompt = TrainingPrompts.Input(TrainingFormat.ZeroShotAnswerOnly, Question);
        var options = new GenerationOptions { MaxNewTokens = 40 };
        var encoding = StudentEncoding.Read(checkpoint, Tokenizers.LoadFromModelFolder(checkpoint));
        Assert.Equal("chatml", encoding.Name);
        IReadOnlyList<int> stopped, free;
        using (var model = StudentModel.Load(checkpoint))
        {
            var generated = encoding.Generate(model, [prompt], options).Single();
            Assert.True(generated.Finished, $"generated {string.Join(" ", generated.Tokens)}: {tokenizer.Decode(generated.Tokens)}");
            stopped = generated.Tokens;
            free = model.Generate([chat.Encode(prompt)], options, tokenizer.VocabularySize).Single().Tokens;
        }
        Assert.Equal(imEnd, stopped[^1]);
        Assert.Equal(1, stopped.Count(id => id == imEnd));
        Assert.True(free.Count > stopped.Count, "without the end of answer the model went on past <|im_end|>");
        Assert.Equal(stopped, free.Take(stopped.Count));
        var answer = tokenizer.Decode(stopped);
        Assert.Equal("The answer is 7", answer);

        var cli = CliRunner.Run("generate", "--model", checkpoint, "--prompt", prompt, "--max-new-tokens", "40", "--json");
        Assert.True(cli.ExitCode == 0, cli.ToString());
        var line = JsonNode.Parse(cli.Stdout)!;
        Assert.Equal((answer, stopped.Count), (line["output"]!.GetValue<string>(), line["tokens"]!.GetValue<int>()));

        using (var evaluated = EvaluatedModel.FromFolder(checkpoint, maxNewTokens: 40))
            Assert.Equal([answer], evaluated.Source.Answer([prompt]));

        // serve: the prompt's tokens are the template's, and the choice stops at <|im_end|>, which its text leaves out.
        await using var server = await TeacherServer.StartAsync(new ServeOptions { ModelDirectory = checkpoint, Port = 0, MaxTokens = 40 });
        using var http = new HttpClient { BaseAddress = server.Url };
        var body = new JsonObject { ["model"] = server.ModelName, ["prompt"] = prompt, ["max_tokens"] = 40, ["temperature"] = 0 };
        using var response = await http.PostAsync("/v1/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(encoding.Prompt(prompt).Count, reply["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(stopped.Count, reply["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal((answer, "stop"), (reply["choices"]![0]!["text"]!.GetValue<string>(), reply["choices"]![0]!["finish_reason"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_llama3_student_gets_its_bos_exactly_once_in_training_and_generation_prompts(bool template)
    {
        // Llama 3's post-processor puts <|begin_of_text|> before a text; its template writes it too, so it must come once.
        var files = HuggingFaceTokenizerFolder.Llama3(Merges, template ? HuggingFaceTokenizerFolder.Llama3Template : null, eosToken: "<|end_of_text|>");
        var (student, dataRoot) = Student(files, "llama", "<|end_of_text|>");
        var bos = files.IdOf("<|begin_of_text|>");
        var end = files.IdOf(template ? "<|eot_id|>" : "<|end_of_text|>");

        var set = Path.Combine(TestPaths.NewTempDir(), "set");
        TrainingTestKit.Check(CliRunner.Run("distill-set", "build", "--gold", SetName, "--student", student, "--out", set, "--formats", "zs-ao,zs-cot",
            "--batch-size", "zs-ao=4,zs-cot=4", "--dev-set", "none", "--data-root", dataRoot));
        var tokenizer = Tokenizers.LoadFromModelFolder(student);
        var encoding = StudentEncoding.Read(student, tokenizer);
        using var model = StudentModel.Load(student);
        using (var distill = DistillSet.Open(set))
        {
            Assert.Equal(template ? "llama3" : "plain", distill.Manifest.StudentPrompt);
            // A training batch's prompts cut to max_source_len keep the BOS (and the template's head) and their last ids.
            var examples = distill.Read(distill.Plan[0]);
            var head = encoding.PromptHeadLength;
            Assert.Equal(template ? tokenizer.Encode("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n").Ids : [bos], examples[0].EncoderIds[..head]);
            using var tensors = MicroBatchTensors.Build(new TrainingMicroBatch(distill.Plan[0].Format, examples), model, head, maxSourceLength: head + 5,
                maxTargetLength: null, sparse: false, new TorchSharp.torch.Device(TorchSharp.DeviceType.CPU));
            var rows = tensors.InputIds.data<long>().ToArray().Chunk(head + 5).ToList();
            for (var r = 0; r < examples.Count; r++)
                Assert.Equal([.. examples[r].EncoderIds[..head], .. examples[r].EncoderIds[^5..]], rows[r].Select(id => (int)id));
            foreach (var format in distill.Formats)
                for (var i = 0; i < distill.Count(format); i++)
                {
                    var example = distill.Read(format, i);
                    Assert.Equal(bos, example.EncoderIds[0]);
                    Assert.Equal(1, example.EncoderIds.Count(id => id == bos));
                    Assert.DoesNotContain(bos, example.DecoderIds);
                    Assert.Equal(end, example.DecoderIds[^1]);
                }
        }

        var prompt = TrainingPrompts.Input(TrainingFormat.ZeroShotCot, Question);
        var ids = encoding.Prompt(prompt);
        Assert.Equal(bos, ids[0]);
        Assert.Equal(1, ids.Count(id => id == bos));
        // What the generator is given is those ids: the model's continuation of them, stopping at the end of answer.
        var options = new GenerationOptions { MaxNewTokens = 6, MinNewTokens = 6 };
        Assert.Equal(model.Generate([ids], options with { EndIds = [end] }, tokenizer.VocabularySize).Single().Tokens,
            encoding.Generate(model, [prompt], options).Single().Tokens);
    }

    [Fact]
    public void A_decoder_only_folder_with_no_end_of_sequence_and_no_template_is_refused_naming_the_file_and_field()
    {
        // No eos_token in tokenizer_config.json, none in the tokenizer.json's post-processor, no chat_template.
        var files = new HuggingFaceTokenizerFolder { Merges = Merges, AddedTokens = ["<|endoftext|>"], Config = new JsonObject() };
        var folder = files.Write();
        var config = TrainingTestKit.DecoderOnlyConfig(vocabSize: 256 + Merges.Length + 1, hidden: 64, intermediate: 128, layers: 2);
        config.Remove("eos_token_id");
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        var tokenizer = Tokenizers.LoadFromModelFolder(folder);
        Assert.Null(tokenizer.EosId);
        var e = Assert.Throws<SpecialistException>(() => StudentEncoding.Read(folder, tokenizer));
        Assert.Contains(Path.Combine(folder, "tokenizer_config.json") + ": field 'eos_token'", e.Message);
        Assert.Contains("'chat_template'", e.Message);
    }

    private const string SetName = "chat-train";

    /// <summary>Eight questions whose gold answer is 7, with the rationale "Count them."; every target is one of two texts.</summary>
    private static readonly Problem[] Questions =
        [.. Enumerable.Range(0, 8).Select(i => new Problem($"{SetName}/{i}", $"Tom has {i} apples and gets {7 - i} more. How many apples?", GoldAnswer.FromNumber(7), "Count them."))];

    /// <summary>
    /// A random decoder-only student (<c>model init</c>) of <paramref name="modelType"/> with the tokenizer folder
    /// <paramref name="files"/>, config.json's end of sequence <paramref name="eosToken"/>; and a data root holding
    /// <see cref="Questions"/> as the set <see cref="SetName"/>.
    /// </summary>
    private static (string Student, string DataRoot) Student(HuggingFaceTokenizerFolder files, string modelType, string eosToken)
    {
        var tokenizerFolder = files.Write();
        var temp = TestPaths.NewTempDir();
        var config = TrainingTestKit.DecoderOnlyConfig(vocabSize: Tokenizers.LoadFromModelFolder(tokenizerFolder).VocabularySize, hidden: 64, intermediate: 128, layers: 2);
        config["model_type"] = modelType;
        config["eos_token_id"] = files.IdOf(eosToken);
        config["pad_token_id"] = files.IdOf(eosToken);
        var configFile = Path.Combine(temp, "config.json");
        File.WriteAllText(configFile, config.ToJsonString());
        var student = Path.Combine(temp, "student");
        TrainingTestKit.Check(CliRunner.Run("model", "init", "--config", configFile, "--tokenizer", Path.Combine(tokenizerFolder, "tokenizer.json"),
            "--out", student, "--seed", "5"));
        var dataRoot = Path.Combine(temp, "data");
        SetFile.Write(ProblemSets.SetFilePath(dataRoot, SetName), Questions);
        return (student, dataRoot);
    }
}
