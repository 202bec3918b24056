using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Specialist.Tests.Teachers;

/// <summary>The official OpenAI .NET client (the <c>OpenAI</c> package) against <c>specialist serve</c>.</summary>
public class OpenAiClientTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(fixture.Server.Url, "/v1") };

    [Fact]
    public async Task ChatWithLogprobs()
    {
        var chat = new ChatClient(fixture.Model, new ApiKeyCredential(TinyServerFixture.ApiKey), Options);
        ChatCompletion completion = await chat.CompleteChatAsync(
            [new SystemChatMessage("You solve math problems."), new UserChatMessage("Question: What is 12 + 30?\nLet's think step by step")],
            new ChatCompletionOptions { IncludeLogProbabilities = true, TopLogProbabilityCount = 5, MaxOutputTokenCount = 16, Temperature = 0.5f });

        Assert.Equal(fixture.Model, completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        var text = completion.Content.Single().Text;
        var tokens = completion.ContentTokenLogProbabilities;
        Assert.InRange(tokens.Count, 1, 16);
        Assert.Equal(text, string.Concat(tokens.Select(t => t.Token)));
        Assert.All(tokens, t => Assert.Equal(5, t.TopLogProbabilities.Count));
        Assert.All(tokens, t => Assert.Equal(System.Text.Encoding.UTF8.GetBytes(t.Token), t.Utf8Bytes!.Value.ToArray()));
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.True(completion.Usage.InputTokenCount > 10);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CompletionsWithLogprobsThroughTheClientsPipeline()
    {
        // The package has no public client for the legacy completions endpoint; its pipeline (with the key policy) sends the request.
        var client = new OpenAIClient(new ApiKeyCredential(TinyServerFixture.ApiKey), Options);
        using var message = client.Pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(fixture.Server.Url, "/v1/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        var body = new JsonObject { ["model"] = fixture.Model, ["prompt"] = "Question: What is 3 * 4?\nLet's think step by step", ["max_tokens"] = 8, ["logprobs"] = 5 };
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        message.ResponseClassifier = PipelineMessageClassifier.Create([200]);
        await client.Pipeline.SendAsync(message);

        Assert.Equal(200, message.Response!.Status);
        var answer = JsonNode.Parse(message.Response.Content.ToString())!;
        var choice = answer["choices"]![0]!;
        var tokens = choice["logprobs"]!["tokens"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Equal(choice["text"]!.GetValue<string>(), string.Concat(tokens));
        Assert.All(choice["logprobs"]!["top_logprobs"]!.AsArray(), top => Assert.Equal(5, top!.AsObject().Count));
    }

    [Fact]
    public async Task ListsTheModel()
    {
        var client = new OpenAIClient(new ApiKeyCredential(TinyServerFixture.ApiKey), Options);
        var models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal([fixture.Model], models.Value.Select(m => m.Id));
    }

    [Fact]
    public async Task AWrongKeyIsAClientErrorNotAHang()
    {
        var chat = new ChatClient(fixture.Model, new ApiKeyCredential("wrong"), Options);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, e.Status);
    }
}
