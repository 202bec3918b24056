using System.Net;
using Specialist.Teachers;

namespace Specialist.Tests.Teachers;

public class RetryPolicyTests
{
    private static readonly RetryPolicy Policy = new(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));

    [Fact]
    public void BackOffDoublesWithJitterAndStopsAtTheCap()
    {
        var random = new Random(3);
        for (var retry = 0; retry < 8; retry++)
        {
            var full = Math.Min(Math.Pow(2, retry), 8);
            var delays = Enumerable.Range(0, 200).Select(_ => Policy.Delay(retry, null, random).TotalSeconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, full / 2, full));
            // Jitter: the delays are spread, not one value.
            Assert.True(delays.Max() - delays.Min() > full / 4, $"retry {retry}: {delays.Min()}..{delays.Max()}");
        }
    }

    [Fact]
    public void RetryAfterIsHonouredWithAtMostTenPercentMore()
    {
        var random = new Random(4);
        var delays = Enumerable.Range(0, 100).Select(_ => Policy.Delay(0, TimeSpan.FromSeconds(20), random).TotalSeconds).ToList();
        Assert.All(delays, d => Assert.InRange(d, 20, 22));
        Assert.Equal(RetryPolicy.MaxWait.TotalSeconds, Policy.Delay(0, TimeSpan.FromHours(2), new Random(1)).TotalSeconds, 0.1 * RetryPolicy.MaxWait.TotalSeconds);
    }

    [Fact]
    public void ReadsRetryAfterAsMillisecondsSecondsOrDate()
    {
        var now = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        using var ms = new HttpResponseMessage();
        ms.Headers.TryAddWithoutValidation("retry-after-ms", "1500");
        ms.Headers.TryAddWithoutValidation("Retry-After", "30");
        Assert.Equal(TimeSpan.FromMilliseconds(1500), RetryPolicy.RetryAfter(ms.Headers, now));

        using var seconds = new HttpResponseMessage();
        seconds.Headers.TryAddWithoutValidation("Retry-After", "7");
        Assert.Equal(TimeSpan.FromSeconds(7), RetryPolicy.RetryAfter(seconds.Headers, now));

        using var date = new HttpResponseMessage();
        date.Headers.TryAddWithoutValidation("Retry-After", "Wed, 01 May 2024 12:00:42 GMT");
        Assert.Equal(TimeSpan.FromSeconds(42), RetryPolicy.RetryAfter(date.Headers, now));

        using var none = new HttpResponseMessage();
        Assert.Null(RetryPolicy.RetryAfter(none.Headers, now));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.BadGateway, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.UnprocessableEntity, false)]
    public void RetriesRateLimitsServerErrorsAndTimeoutsOnly(HttpStatusCode status, bool retried) =>
        Assert.Equal(retried, RetryPolicy.IsRetryable(status));
}
