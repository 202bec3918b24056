using Specialist.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Specialist.Tests.Models;

public class T5ModelTests
{
    private static readonly T5Config OneAndOne = T5Config.Tiny with { NumLayers = 1, NumDecoderLayers = 1 };

    private static readonly string[] AttentionWeights = ["q", "k", "v", "o"];

    [Fact]
    public void ParameterNamesOfAV10ModelAreTheHuggingFaceKeys()
    {
        var config = OneAndOne with { FeedForwardProj = "relu", TieWordEmbeddings = true };
        string[] expected =
        [
            "shared.weight",
            "encoder.block.0.layer.0.SelfAttention.q.weight",
            "encoder.block.0.layer.0.SelfAttention.k.weight",
            "encoder.block.0.layer.0.SelfAttention.v.weight",
            "encoder.block.0.layer.0.SelfAttention.o.weight",
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "encoder.block.0.layer.0.layer_norm.weight",
            "encoder.block.0.layer.1.DenseReluDense.wi.weight",
            "encoder.block.0.layer.1.DenseReluDense.wo.weight",
            "encoder.block.0.layer.1.layer_norm.weight",
            "encoder.final_layer_norm.weight",
            "decoder.block.0.layer.0.SelfAttention.q.weight",
            "decoder.block.0.layer.0.SelfAttention.k.weight",
            "decoder.block.0.layer.0.SelfAttention.v.weight",
            "decoder.block.0.layer.0.SelfAttention.o.weight",
            "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "decoder.block.0.layer.0.layer_norm.weight",
            "decoder.block.0.layer.1.EncDecAttention.q.weight",
            "decoder.block.0.layer.1.EncDecAttention.k.weight",
            "decoder.block.0.layer.1.EncDecAttention.v.weight",
            "decoder.block.0.layer.1.EncDecAttention.o.weight",
            "decoder.block.0.layer.1.layer_norm.weight",
            "decoder.block.0.layer.2.DenseReluDense.wi.weight",
            "decoder.block.0.layer.2.DenseReluDense.wo.weight",
            "decoder.block.0.layer.2.layer_norm.weight",
            "decoder.final_layer_norm.weight",
        ];
        using var model = new T5Model(config);
        Assert.Equal(expected, model.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(expected, model.state_dict().Keys.ToArray());
    }

    [Fact]
    public void ParameterNamesOfAV11ModelAreTheHuggingFaceKeys()
    {
        string[] expected =
        [
            "shared.weight",
            "encoder.block.0.layer.0.SelfAttention.q.weight",
            "encoder.block.0.layer.0.SelfAttention.k.weight",
            "encoder.block.0.layer.0.SelfAttention.v.weight",
            "encoder.block.0.layer.0.SelfAttention.o.weight",
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "encoder.block.0.layer.0.layer_norm.weight",
            "encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
            "encoder.block.0.layer.1.DenseReluDense.wi_1.weight",
            "encoder.block.0.layer.1.DenseReluDense.wo.weight",
            "encoder.block.0.layer.1.layer_norm.weight",
            "encoder.final_layer_norm.weight",
            "decoder.block.0.layer.0.SelfAttention.q.weight",
            "decoder.block.0.layer.0.SelfAttention.k.weight",
            "decoder.block.0.layer.0.SelfAttention.v.weight",
            "decoder.block.0.layer.0.SelfAttention.o.weight",
            "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            "decoder.block.0.layer.0.layer_norm.weight",
            "decoder.block.0.layer.1.EncDecAttention.q.weight",
            "decoder.block.0.layer.1.EncDecAttention.k.weight",
            "decoder.block.0.layer.1.EncDecAttention.v.weight",
            "decoder.block.0.layer.1.EncDecAttention.o.weight",
            "decoder.block.0.layer.1.layer_norm.weight",
            "decoder.block.0.layer.2.DenseReluDense.wi_0.weight",
            "decoder.block.0.layer.2.DenseReluDense.wi_1.weight",
            "decoder.block.0.layer.2.DenseReluDense.wo.weight",
            "decoder.block.0.layer.2.layer_norm.weight",
            "decoder.final_layer_norm.weight",
            "lm_head.weight",
        ];
        using var model = new T5Model(OneAndOne);
        Assert.Equal(expected, model.named_parameters().Select(p => p.name).ToArray());
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("tiny-relu-3-2")]
    public void ParameterShapesFromTheConfigEqualTheModelsParameters(string name)
    {
        // Later blocks hold no relative_attention_bias; the encoder and decoder may differ in depth.
        var config = name == "tiny" ? T5Config.Tiny : T5Config.Tiny with { FeedForwardProj = "relu", TieWordEmbeddings = true, NumLayers = 3, NumDecoderLayers = 2 };
        using var model = new T5Model(config);
        var actual = model.named_parameters().Select(p => (p.name, string.Join(",", p.parameter.shape))).ToArray();
        var expected = T5Model.ParameterShapes(config).Select(p => (p.Name, string.Join(",", p.Shape))).ToArray();
        Assert.Equal(expected, actual);
        Assert.Single(actual, p => p.name.StartsWith("encoder.") && p.name.Contains("relative_attention_bias"));
        Assert.Equal(T5Model.ParameterShapes(config).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)), model.ParameterCount);
    }

    [Fact]
    public void BuiltInConfigsHaveThePublishedParameterCounts()
    {
        // Hugging Face's counts (num_parameters()): shared embedding counted once.
        long Count(string name) => T5Model.ParameterShapes(T5Config.Resolve(name)).Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(60_506_624, Count("t5-small"));
        Assert.Equal(222_903_552, Count("t5-base"));
        Assert.Equal(76_961_152, Count("flan-t5-small"));
        Assert.Equal(247_577_856, Count("flan-t5-base"));
        Assert.Equal(783_150_080, Count("flan-t5-large"));
    }

    [Fact]
    public void InitialisationFollowsHuggingFace()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(1);
        var config = T5Config.Tiny with { DModel = 128, DKv = 32 };
        using var model = new T5Model(config);
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        void Std(string key, double expected) =>
            Assert.InRange(p[key].std().item<float>(), expected * 0.9, expected * 1.1);
        Std("shared.weight", 1.0);
        Std("lm_head.weight", 1.0);
        Std("encoder.block.0.layer.0.SelfAttention.q.weight", Math.Pow(128 * 32, -0.5));
        Std("encoder.block.0.layer.0.SelfAttention.k.weight", Math.Pow(128, -0.5));
        Std("encoder.block.0.layer.0.SelfAttention.o.weight", Math.Pow(4 * 32, -0.5));
        Std("decoder.block.1.layer.2.DenseReluDense.wi_1.weight", Math.Pow(128, -0.5));
        Std("decoder.block.1.layer.2.DenseReluDense.wo.weight", Math.Pow(128, -0.5));
        Assert.Equal(1f, p["decoder.block.1.layer.1.layer_norm.weight"].min().item<float>());
        Assert.Equal(1f, p["encoder.final_layer_norm.weight"].max().item<float>());
    }

    [Theory]
    // Hand-computed from Hugging Face's _relative_position_bucket: 32 buckets, max distance 128.
    // Bidirectional: 16 per side, 8 exact; large = 8 + floor(log(d/8) / log(16) * 8), at most 15; keys after the query add 16.
    [InlineData(0, true, 0)]
    [InlineData(-1, true, 1)]
    [InlineData(1, true, 17)]
    [InlineData(-7, true, 7)]
    [InlineData(7, true, 23)]
    [InlineData(-8, true, 8)]
    [InlineData(-20, true, 10)]   // 8 + floor(2.644)
    [InlineData(20, true, 26)]
    [InlineData(-127, true, 15)]  // 8 + floor(7.977)
    [InlineData(-1000, true, 15)]
    [InlineData(1000, true, 31)]
    // Causal: 32 buckets, 16 exact; future keys go to bucket 0; large = 16 + floor(log(d/16) / log(8) * 16), at most 31.
    [InlineData(5, false, 0)]
    [InlineData(0, false, 0)]
    [InlineData(-3, false, 3)]
    [InlineData(-15, false, 15)]
    [InlineData(-16, false, 16)]
    [InlineData(-20, false, 17)]  // 16 + floor(1.717)
    [InlineData(-50, false, 24)]  // 16 + floor(8.767)
    [InlineData(-127, false, 31)] // 16 + floor(15.94)
    [InlineData(-200, false, 31)]
    public void RelativePositionBucketsMatchHuggingFace(long relative, bool bidirectional, long bucket)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var result = T5Attention.RelativePositionBucket(tensor(new[] { relative }), bidirectional, 32, 128);
        Assert.Equal(bucket, result.item<long>());
    }

    [Fact]
    public void PaddingDoesNotChangeTheRealPositions()
    {
        using var model = TinyModel(seed: 2);
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 5, 6, 7, 8, 1, 9, 10, 1, 0, 0 }, 2, 5);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, 2, 5);
        var decoderIds = tensor(new long[] { 0, 11, 12, 0, 13, 14 }, 2, 3);
        var batched = model.forward(ids, mask, decoderIds);

        var alone = model.forward(tensor(new long[] { 9, 10, 1 }, 1, 3), ones(1, 3, ScalarType.Int64), tensor(new long[] { 0, 13, 14 }, 1, 3));
        AssertClose(alone[0], batched[1], 1e-4);
        var encodedAlone = model.Encode(tensor(new long[] { 9, 10, 1 }, 1, 3), ones(1, 3, ScalarType.Int64));
        AssertClose(encodedAlone[0], model.Encode(ids, mask)[1].narrow(0, 0, 3), 1e-5);
    }

    [Fact]
    public void TheDecoderIsCausal()
    {
        using var model = TinyModel(seed: 3);
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 5, 6, 7, 1 }, 1, 4);
        var mask = ones(1, 4, ScalarType.Int64);
        var first = model.forward(ids, mask, tensor(new long[] { 0, 20, 21, 22 }, 1, 4));
        var changedLast = model.forward(ids, mask, tensor(new long[] { 0, 20, 21, 99 }, 1, 4));
        AssertClose(first[0].narrow(0, 0, 3), changedLast[0].narrow(0, 0, 3), 1e-5);
        Assert.True((first[0][3] - changedLast[0][3]).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void EncoderAttendsBothWays()
    {
        using var model = TinyModel(seed: 4);
        using var scope = NewDisposeScope();
        var mask = ones(1, 3, ScalarType.Int64);
        var a = model.Encode(tensor(new long[] { 5, 6, 7 }, 1, 3), mask);
        var b = model.Encode(tensor(new long[] { 5, 6, 8 }, 1, 3), mask);
        Assert.True((a[0][0] - b[0][0]).abs().max().item<float>() > 1e-4, "the first position must see the last");
    }

    [Fact]
    public void DropoutActsOnlyInTraining()
    {
        using var model = TinyModel(seed: 5);
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 5, 6, 7, 1 }, 1, 4);
        var mask = ones(1, 4, ScalarType.Int64);
        var decoderIds = tensor(new long[] { 0, 20 }, 1, 2);
        model.eval();
        AssertClose(model.forward(ids, mask, decoderIds), model.forward(ids, mask, decoderIds), 0);
        model.train();
        Assert.True((model.forward(ids, mask, decoderIds) - model.forward(ids, mask, decoderIds)).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void TiedV10ModelRunsAndUsesTheSharedEmbeddingForOutput()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(6);
        using var model = new T5Model(T5Config.Tiny with { FeedForwardProj = "relu", TieWordEmbeddings = true });
        model.eval();
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 5, 6, 7, 1 }, 1, 4);
        var mask = ones(1, 4, ScalarType.Int64);
        var decoderIds = tensor(new long[] { 0, 20 }, 1, 2);
        var before = model.forward(ids, mask, decoderIds);
        Assert.Equal(new long[] { 1, 2, 32128 }, before.shape);
        using (no_grad()) model.named_parameters().Single(p => p.name == "shared.weight").parameter[300].fill_(0);
        var after = model.forward(ids, mask, decoderIds);
        Assert.Equal(0f, after[0, 0, 300].item<float>());
    }

    [Fact]
    public void ShiftRightStartsWithTheDecoderStartTokenAndReplacesIgnoredLabels()
    {
        using var model = TinyModel(seed: 7);
        using var scope = NewDisposeScope();
        var shifted = model.ShiftRight(tensor(new long[] { 5, 6, 7, 8, -100, -100 }, 2, 3));
        Assert.Equal(new long[] { 0, 5, 6, 0, 8, 0 }, shifted.data<long>().ToArray());
    }

    [Fact]
    public void BadShapesAreArgumentErrorsNotAborts()
    {
        using var model = TinyModel(seed: 8);
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 5, 6, 7, 1 }, 1, 4);
        Assert.Throws<ArgumentException>(() => model.forward(ids, ones(1, 3, ScalarType.Int64), tensor(new long[] { 0 }, 1, 1)));
        Assert.Throws<ArgumentException>(() => model.forward(ids, ones(1, 4, ScalarType.Int64), tensor(new long[] { 0, 0 }, 2, 1)));
        Assert.Throws<ArgumentException>(() => model.Encode(tensor(new long[] { 5, 6 }), ones(2, ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => model.Decode(tensor(new long[] { 0 }, 1, 1), null, zeros(1, 4, 32), ones(1, 4)));
    }

    [Fact]
    public void ConfigRoundTripsThroughHuggingFaceJson()
    {
        var dir = TestPaths.NewTempDir();
        var config = T5Config.Resolve("flan-t5-base");
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
        Assert.Equal(config, T5Config.Resolve(dir));
        var text = File.ReadAllText(Path.Combine(dir, "config.json"));
        Assert.Contains("\"architectures\": [\n    \"T5ForConditionalGeneration\"", text.Replace("\r", ""));
        Assert.Contains("\"model_type\": \"t5\"", text);
    }

    [Fact]
    public void ConfigReadsHuggingFaceDefaultsAndReportsBadFields()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "config.json");
        // t5-small's published config.json omits num_decoder_layers and tie_word_embeddings.
        File.WriteAllText(path, """
            {"architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 512, "decoder_start_token_id": 0,
             "dropout_rate": 0.1, "eos_token_id": 1, "initializer_factor": 1.0, "is_encoder_decoder": true, "layer_norm_epsilon": 1e-06,
             "model_type": "t5", "n_positions": 512, "num_heads": 8, "num_layers": 6, "output_past": true, "pad_token_id": 0,
             "relative_attention_num_buckets": 32, "task_specific_params": {"summarization": {"prefix": "summarize: "}}, "vocab_size": 32128}
            """);
        Assert.Equal(T5Config.Resolve("t5-small"), T5Config.Read(path));

        File.WriteAllText(path, """{"d_model": "wide", "num_layers": 6}""");
        var e = Assert.Throws<DataFormatException>(() => T5Config.Read(path));
        Assert.Contains("d_model", e.Message);
        Assert.Contains(path, e.Message);

        File.WriteAllText(path, """{"d_model": 0, "feed_forward_proj": "gated-silu", "eos_token_id": 40000}""");
        var all = Assert.Throws<SpecialistException>(() => T5Config.Read(path));
        Assert.Contains("d_model is 0", all.Message);
        Assert.Contains("gated-silu", all.Message);
        Assert.Contains("eos_token_id is 40000", all.Message);
    }

    internal static T5Model TinyModel(int seed, T5Config? config = null)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(seed);
        var model = new T5Model(config ?? T5Config.Tiny);
        model.eval();
        return model;
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected.to(ScalarType.Float32) - actual.to(ScalarType.Float32)).abs().max().item<float>();
        Assert.True(difference <= tolerance, $"largest difference {difference} exceeds {tolerance}");
    }
}
