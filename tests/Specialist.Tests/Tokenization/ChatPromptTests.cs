using System.Text.Json.Nodes;
using Specialist.Tokenization;

namespace Specialist.Tests.Tokenization;

public sealed class ChatPromptTests
{
    private static readonly (string, string)[] Merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he")];

    private static HuggingFaceTokenizerFolder Qwen(string? template) => HuggingFaceTokenizerFolder.Qwen2(Merges, template);

    private static readonly HuggingFaceTokenizerFolder Llama3 = HuggingFaceTokenizerFolder.Llama3(Merges, HuggingFaceTokenizerFolder.Llama3Template);

    /// <summary>Writes the folder and reads its tokenizer and chat prompt, as a training run would.</summary>
    private static (ITokenizer Tokenizer, ChatPrompt Prompt) Open(HuggingFaceTokenizerFolder files)
    {
        var folder = files.Write();
        var tokenizer = Tokenizers.LoadFromModelFolder(folder);
        return (tokenizer, ChatPrompt.FromModelFolder(folder, tokenizer));
    }

    public static TheoryData<string, ChatFormat, string, string, string, string> Templates => new()
    {
        // Qwen2's template adds its default system message; Llama 3's writes the BOS itself and trims the message.
        {
            "qwen2", ChatFormat.ChatMl, "the sum?",
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nthe sum?<|im_end|>\n<|im_start|>assistant\n",
            "<|im_start|>", "<|im_end|>"
        },
        {
            "llama3", ChatFormat.Llama3, "  the sum?\n",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nthe sum?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|begin_of_text|>", "<|eot_id|>"
        },
        // Llama 3.1's always writes its system message, dated with the template's own default.
        {
            "llama31", ChatFormat.Llama31, " the sum? ",
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nthe sum?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|begin_of_text|>", "<|eot_id|>"
        },
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public void RendersTheModelsTemplateForOneUserMessage(string model, ChatFormat format, string text, string rendered, string first, string end)
    {
        var files = model switch
        {
            "qwen2" => Qwen(HuggingFaceTokenizerFolder.Qwen2Template),
            "llama31" => HuggingFaceTokenizerFolder.Llama3(Merges, HuggingFaceTokenizerFolder.Llama31Template),
            _ => Llama3,
        };
        var (tokenizer, prompt) = Open(files);
        Assert.Equal(format, prompt.Format);
        Assert.Equal(rendered, prompt.Render(text));
        var ids = prompt.Encode(text);
        // The rendered special tokens are single ids, and no second BOS is added before a template's own.
        Assert.Equal(tokenizer.Encode(rendered).Ids, ids);
        Assert.Equal(files.IdOf(first), ids[0]);
        Assert.Equal([files.IdOf(end)], prompt.EndOfAnswerIds);
    }

    [Fact]
    public void Llama2sTemplateIsTheBosThenTheTrimmedMessageInInstTags()
    {
        var files = HuggingFaceTokenizerFolder.Llama2(Merges, HuggingFaceTokenizerFolder.Llama2Template);
        var (tokenizer, prompt) = Open(files);
        Assert.Equal(ChatFormat.Llama2, prompt.Format);
        Assert.Equal("[INST] the sum? [/INST]", prompt.Render("  the sum?\n"));
        // The tokenizer's BOS id, then the rendered text as the tokenizer reads it (its post-processor's BOS not repeated).
        var ids = prompt.Encode(" the sum? ");
        Assert.Equal([files.IdOf("<s>"), .. tokenizer.Encode("[INST] the sum? [/INST]").Ids.Where(id => id != files.IdOf("<s>"))], ids);
        Assert.Equal([files.IdOf("</s>")], prompt.EndOfAnswerIds);
        // The head kept when a long prompt is cut: the BOS and "[INST]", whatever the message.
        Assert.Equal(ids.Take(prompt.HeadLength), prompt.Encode("other words").Take(prompt.HeadLength));
        Assert.Equal(1 + tokenizer.Encode("[INST]").Ids.Count(id => id != files.IdOf("<s>")), prompt.HeadLength);
    }

    [Fact]
    public void WithoutATemplateThePromptIsPlainAfterTheBos()
    {
        var files = HuggingFaceTokenizerFolder.Llama3(Merges, template: null, eosToken: "<|end_of_text|>");
        var (_, prompt) = Open(files);
        Assert.Equal(ChatFormat.Plain, prompt.Format);
        Assert.Equal(" the", prompt.Render(" the"));
        Assert.Equal([files.IdOf("<|begin_of_text|>"), files.IdOf("Ġthe")], prompt.Encode(" the"));
        Assert.Equal([files.IdOf("<|end_of_text|>")], prompt.EndOfAnswerIds);

        // Qwen2 has no BOS; a plain prompt is the text's tokens.
        var qwen = Qwen(HuggingFaceTokenizerFolder.Qwen2Template).Load();
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
    [InlineData("{% for message in messages %}<|user|>{{ message['content'] }}<|end|>{% endfor %}<|assistant|>", "not recognised")]
    [InlineData("{% if USE_DEFAULT_PROMPT == true %}{% set system_message = 'DEFAULT_SYSTEM_MESSAGE' %}{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}", "default system message")]
    [InlineData(@"{%- if strftime_now is defined %}{%- set date_string = strftime_now(""%d %b %Y"") %}{%- else %}{%- set date_string = ""26 Jul 2024"" %}{%- endif %}<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n<|eot_id|>", "today's date")]
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
        var files = new HuggingFaceTokenizerFolder { Merges = Merges, Config = new JsonObject { ["chat_template"] = HuggingFaceTokenizerFolder.Qwen2Template } };
        var folder = files.Write();
        var e = Assert.Throws<SpecialistException>(() => ChatPrompt.FromModelFolder(folder, Tokenizers.LoadFromModelFolder(folder)));
        Assert.Contains("\"<|im_start|>\" to be one token", e.Message);
    }
}
