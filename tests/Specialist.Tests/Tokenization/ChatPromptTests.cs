using System.Text.Json.Nodes;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class ChatPromptTests
{
    // The templates as the models' tokenizer_config.json hold them (Jinja writes a newline as \n inside its strings).
    private const string Qwen2Template =
        @"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private const string Llama3Template =
        @"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    private static readonly (string, string)[] Merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he")];

    private static HuggingFaceTokenizerFolder Qwen(string? template) => new()
    {
        Merges = Merges,
        AddedTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        Config = new JsonObject { ["eos_token"] = "<|im_end|>", ["pad_token"] = "<|endoftext|>", ["chat_template"] = template },
    };

    private static readonly HuggingFaceTokenizerFolder Llama3 = new()
    {
        Merges = Merges,
        AddedTokens = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        BosPrefix = "<|begin_of_text|>",
        Config = new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>", ["chat_template"] = Llama3Template },
    };

    [Fact]
    public void Qwen2sChatMlWithItsDefaultSystemMessage()
    {
        var files = Qwen(Qwen2Template);
        var folder = files.Write();
        var tokenizer = Tokenizers.LoadFromModelFolder(folder);
        var prompt = ChatPrompt.FromModelFolder(folder, tokenizer);
        Assert.Equal(ChatFormat.ChatMl, prompt.Format);
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nthe sum?<|im_end|>\n<|im_start|>assistant\n",
            prompt.Render("the sum?"));
        var ids = prompt.Encode("the sum?");
        Assert.Equal(files.IdOf("<|im_start|>"), ids[0]);
        Assert.Equal(3, ids.Count(id => id == files.IdOf("<|im_start|>")));
        Assert.Equal(tokenizer.Encode(prompt.Render("the sum?")).Ids, ids);
        Assert.Equal([files.IdOf("<|im_end|>")], prompt.EndOfAnswerIds);
    }

    [Fact]
    public void Llama3sHeadersAfterOneBeginningOfText()
    {
        var folder = Llama3.Write();
        var tokenizer = Tokenizers.LoadFromModelFolder(folder);
        var prompt = ChatPrompt.FromModelFolder(folder, tokenizer);
        Assert.Equal(ChatFormat.Llama3, prompt.Format);
        // The template trims the message.
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nthe sum?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            prompt.Render("  the sum?\n"));
        var ids = prompt.Encode("the sum?");
        Assert.Equal(Llama3.IdOf("<|begin_of_text|>"), ids[0]);
        Assert.Single(ids, id => id == Llama3.IdOf("<|begin_of_text|>"));
        Assert.Equal([Llama3.IdOf("<|eot_id|>")], prompt.EndOfAnswerIds);
    }

    [Fact]
    public void WithoutATemplateThePromptIsPlainAfterTheBos()
    {
        var files = new HuggingFaceTokenizerFolder
        {
            Merges = Merges, AddedTokens = Llama3.AddedTokens, BosPrefix = "<|begin_of_text|>",
            Config = new JsonObject { ["eos_token"] = "<|end_of_text|>" },
        };
        var folder = files.Write();
        var prompt = ChatPrompt.FromModelFolder(folder, Tokenizers.LoadFromModelFolder(folder));
        Assert.Equal(ChatFormat.Plain, prompt.Format);
        Assert.Equal(" the", prompt.Render(" the"));
        Assert.Equal([files.IdOf("<|begin_of_text|>"), files.IdOf("Ġthe")], prompt.Encode(" the"));
        Assert.Equal([files.IdOf("<|end_of_text|>")], prompt.EndOfAnswerIds);

        // Qwen2 has no BOS; a plain prompt is the text's tokens.
        var qwen = Qwen(Qwen2Template).Load();
        Assert.Equal(qwen.Encode("the").Ids, ChatPrompt.Plain(qwen).Encode("the"));
    }

    [Fact]
    public void APlainPromptOfASeq2SeqTokenizerDropsTheAppendedEos()
    {
        var wordLevel = WordLevelTokenizer.Build(["the cat"], 1000);
        var ids = ChatPrompt.Plain(wordLevel).Encode("the cat");
        Assert.Equal(wordLevel.Encode("the cat").Ids.SkipLast(1), ids);
        Assert.Equal([wordLevel.EosId!.Value], ChatPrompt.Plain(wordLevel).EndOfAnswerIds);
    }

    [Theory]
    [InlineData("{{ bos_token }}{% for message in messages %}[INST] {{ message['content'] }} [/INST]{% endfor %}", "not recognised")]
    [InlineData(@"{%- if not date_string is defined %}{%- set date_string = ""26 Jul 2024"" %}{%- endif %}<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023<|eot_id|>", "date")]
    public void ATemplateItCannotRenderIsRefusedNamingTheFileAndField(string template, string reason)
    {
        var files = Qwen(template);
        var folder = files.Write();
        var e = Assert.Throws<SpecialistException>(() => ChatPrompt.FromModelFolder(folder, Tokenizers.LoadFromModelFolder(folder)));
        Assert.Contains(Path.Combine(folder, "tokenizer_config.json"), e.Message);
        Assert.Contains("'chat_template'", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void ATemplateWhoseSpecialTokensTheTokenizerLacksIsRefused()
    {
        var files = new HuggingFaceTokenizerFolder { Merges = Merges, Config = new JsonObject { ["chat_template"] = Qwen2Template } };
        var folder = files.Write();
        var e = Assert.Throws<SpecialistException>(() => ChatPrompt.FromModelFolder(folder, Tokenizers.LoadFromModelFolder(folder)));
        Assert.Contains("\"<|im_start|>\" to be one token", e.Message);
    }
}
