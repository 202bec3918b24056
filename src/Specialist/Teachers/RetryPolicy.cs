using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Specialist.Teachers;

/// <summary>
/// When to try a request again: 408, 409, 429 and 5xx answers, timeouts and broken connections are retried after an
/// exponential back-off with jitter (half the delay fixed, half random), or after exactly what the server's
/// <c>retry-after-ms</c> / <c>Retry-After</c> header asks (plus up to 10 % jitter), never longer than <see cref="MaxWait"/>.
/// </summary>
internal sealed record RetryPolicy(int MaxRetries, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>The longest wait honoured from a <c>Retry-After</c> header.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The wait before retry number <paramref name="retry"/> (0 = the first retry).</summary>
    public TimeSpan Delay(int retry, TimeSpan? retryAfter, Random random)
    {
        if (retryAfter is { } asked)
        {
            var honoured = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > MaxWait ? MaxWait : asked;
            return honoured + honoured * (0.1 * random.NextDouble());
        }
        var exponential = BaseDelay.TotalSeconds * Math.Pow(2, Math.Min(retry, 30));
        var capped = Math.Min(exponential, MaxDelay.TotalSeconds);
        return TimeSpan.FromSeconds(capped / 2 + capped / 2 * random.NextDouble());
    }

    /// <summary>
    /// The wait a response asks for: OpenAI's <c>retry-after-ms</c> (milliseconds) first, else <c>Retry-After</c> as
    /// seconds or an HTTP date; null when neither is present or readable.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
            return TimeSpan.FromMilliseconds(milliseconds);
        if (headers.RetryAfter is { } retryAfter)
        {
            if (retryAfter.Delta is { } delta) return delta;
            if (retryAfter.Date is { } date) return date - now;
        }
        return null;
    }
}
