using System.Text;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

public class TeacherResponseParserTests
{
    private static TeacherCompletion Parse(string json, TeacherApi api, int n, int k) => TeacherResponseParser.Parse(Encoding.UTF8.GetBytes(json), api, n, k);

    // The shape OpenAI documents for the legacy completions endpoint with logprobs.
    private const string Completions = """
        {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
         "choices": [
           {"text": " 2 + 2 = 4", "index": 1, "finish_reason": "length",
            "logprobs": {"tokens": [" 2", " +", " 2", " =", " 4"], "token_logprobs": [-0.1, -0.2, -0.3, -0.4, -0.5],
                         "top_logprobs": [{" 2": -0.1, " 3": -2.5}, {" +": -0.2, " -": -3}, {" 2": -0.3}, {" =": -0.4}, {" 4": -0.5, " 5": -1}],
                         "text_offset": [0, 2, 4, 6, 8]}},
           {"text": "The answer is 4", "index": 0, "finish_reason": "stop",
            "logprobs": {"tokens": ["The", " answer", " is", " 4"], "token_logprobs": [null, -1, -2, -3],
                         "top_logprobs": [null, {" answer": -1}, {" is": -2}, {" 4": -0.5}], "text_offset": [0, 3, 10, 13]}}
         ],
         "usage": {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129}}
        """;

    [Fact]
    public void ReadsCompletionsChoicesInIndexOrderWithTheirTopK()
    {
        var c = Parse(Completions, TeacherApi.Completions, 2, 5);
        Assert.Equal((120L, 9L), (c.PromptTokens, c.CompletionTokens));
        Assert.Equal("The answer is 4", c.Samples[0].Text);
        Assert.Equal("stop", c.Samples[0].FinishReason);
        Assert.Equal(" 2 + 2 = 4", c.Samples[1].Text);
        var first = c.Samples[1].Positions!;
        Assert.Equal([" 2", " +", " 2", " =", " 4"], first.Select(p => p.Token));
        Assert.Equal([new TopCandidate(" 2", -0.1f), new TopCandidate(" 3", -2.5f)], first[0].Top);
        Assert.Equal(-0.5f, first[4].Logprob);
        // A null log-prob (OpenAI's first echoed token) is kept as NaN, a null top list as empty.
        Assert.True(float.IsNaN(c.Samples[0].Positions![0].Logprob));
        Assert.Empty(c.Samples[0].Positions![0].Top);
    }

    [Fact]
    public void ReadsChatLogprobs()
    {
        const string chat = """
            {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there", "refusal": null},
               "logprobs": {"content": [
                 {"token": "Hi", "logprob": -0.01, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.01, "bytes": [72, 105]}, {"token": "Hello", "logprob": -4.6, "bytes": null}]},
                 {"token": " there", "logprob": -0.5, "bytes": [32], "top_logprobs": []}], "refusal": null},
               "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
            """;
        var c = Parse(chat, TeacherApi.Chat, 1, 2);
        Assert.Equal("Hi there", c.Samples[0].Text);
        Assert.Equal(["Hi", " there"], c.Samples[0].Positions!.Select(p => p.Token));
        Assert.Equal([new TopCandidate("Hi", -0.01f), new TopCandidate("Hello", -4.6f)], c.Samples[0].Positions![0].Top);
        // Without log-probs asked for, none are read (and none are required).
        Assert.Null(Parse("""{"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}]}""", TeacherApi.Chat, 1, 0).Samples[0].Positions);
    }

    [Theory]
    [InlineData("""{"id": "cmpl-1", "choices": [{"text": "The ans""", "not valid JSON")]
    [InlineData("""[1, 2]""", "not a JSON object")]
    [InlineData("""{"id": "x", "results": []}""", "no 'choices' array")]
    [InlineData("""{"choices": [{"text": "a", "index": 0, "logprobs": {"tokens": ["a"], "token_logprobs": [-1], "top_logprobs": [{"a": -1}]}}]}""", "1 choices, 2 were asked for")]
    [InlineData("""{"choices": [{"output": "a"}, {"output": "b"}]}""", "no string 'text'")]
    [InlineData("""{"choices": [{"text": "a", "index": 0}, {"text": "b", "index": 1}]}""", "no 'logprobs' object")]
    [InlineData("""{"choices": [{"text": "a", "index": 0, "logprobs": {"tokens": ["a"], "token_logprobs": [], "top_logprobs": [{}]}}, {"text": "b", "index": 0}]}""", "1 tokens, 0 token_logprobs")]
    [InlineData("""{"choices": [{"text": "a", "index": 3}, {"text": "b"}]}""", "out of range or repeated")]
    public void MalformedCompletionsAreRejectedWithTheReason(string json, string reason)
    {
        var e = Assert.Throws<MalformedResponseException>(() => Parse(json, TeacherApi.Completions, 2, 5));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void AChatAnswerWithoutContentIsMalformed()
    {
        var e = Assert.Throws<MalformedResponseException>(() =>
            Parse("""{"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "no"}}]}""", TeacherApi.Chat, 1, 0));
        Assert.Contains("no string 'content'", e.Message);
    }
}
