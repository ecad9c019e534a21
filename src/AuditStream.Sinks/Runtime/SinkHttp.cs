using System.Globalization;
using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// Sends a sink's HTTP requests through one Polly pipeline: retry (exponential backoff with jitter, honouring
/// <c>Retry-After</c>) around a circuit breaker around an attempt timeout. Retried: connection failures, attempt timeouts,
/// 408, 429 and 5xx. Everything else is returned to the sink to classify with <see cref="ClassifyAsync"/>.
/// </summary>
public sealed class SinkHttp
{
    private const int MaxReasonLength = 500;

    private readonly HttpClient _client;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly CircuitBreakerStateProvider _breaker = new();
    private readonly SinkResilienceOptions _options;
    private readonly TimeProvider _time;
    private long _retries;

    /// <summary>Creates the pipeline over <paramref name="client"/> (whose own timeout should be infinite).</summary>
    public SinkHttp(HttpClient client, SinkResilienceOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _client = client;
        _options = options;
        _time = time;
        var shouldHandle = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(static r => IsTransient(r.StatusCode));
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = shouldHandle,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref _retries);
                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = shouldHandle,
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = _breaker,
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The breaker's state: <c>Closed</c>, <c>Open</c>, <c>HalfOpen</c> or <c>Isolated</c>.</summary>
    public CircuitState CircuitState => _breaker.CircuitState;

    /// <summary>Retries made inside the pipeline so far.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>
    /// Sends a request built by <paramref name="create"/> (called once per attempt, since a request cannot be sent twice) and
    /// reads the whole answer within the attempt. Throws <see cref="HttpRequestException"/>, <see cref="TimeoutRejectedException"/>
    /// or <see cref="BrokenCircuitException"/> when no attempt produced a response.
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken) =>
        SendAsync(create, HttpCompletionOption.ResponseContentRead, cancellationToken);

    /// <summary>
    /// Sends one request (see <see cref="SendAsync(Func{HttpRequestMessage}, CancellationToken)"/>) and classifies the answer
    /// (see <see cref="ClassifyAsync"/>); a request that got no answer at all is <see cref="SinkDeliveryKind.Transient"/>.
    /// A 2xx status line is final: the attempt ends there and the body is not read, so a 2xx whose body is slow or cut off
    /// is never retried (for receivers without an idempotency key that would be a duplicate).
    /// </summary>
    public async Task<SinkDelivery> DeliverAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(create, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SinkDelivery.Transient(ex is BrokenCircuitException ? "circuit open: " + ex.Message : ex.Message);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return SinkDelivery.Delivered();
            }

            // The error body is only the reason: read it within an attempt's time, or go on without it.
            using var deadline = new CancellationTokenSource(_options.AttemptTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            try
            {
                return await ClassifyAsync(response, linked.Token).ConfigureAwait(false) ?? SinkDelivery.Delivered();
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return Classify(response, string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} (body unread: {ex.Message})"));
            }
        }
    }

    /// <summary>
    /// Null for a 2xx response; otherwise the failure: <see cref="SinkDeliveryKind.Transient"/> for 408, 429, 5xx and for
    /// 401/403 (the credential is refused, not the events, so they must not be dead-lettered), else
    /// <see cref="SinkDeliveryKind.Rejected"/> with the status and the start of the body as the reason.
    /// </summary>
    public async Task<SinkDelivery?> ClassifyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        return Classify(response, await ReasonAsync(response, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>"HTTP 400: first 500 characters of the body".</summary>
    public static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (body.Length > MaxReasonLength)
        {
            body = body[..MaxReasonLength];
        }

        return string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}: {body}");
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        return await _pipeline.ExecuteAsync(
            static async (state, ct) =>
            {
                using var request = state.create();
                return await state.client.SendAsync(request, state.completion, ct).ConfigureAwait(false);
            },
            (client: _client, create, completion),
            cancellationToken).ConfigureAwait(false);
    }

    private SinkDelivery Classify(HttpResponseMessage response, string reason) =>
        IsTransient(response.StatusCode) || response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? SinkDelivery.Transient(reason, RetryAfter(response))
            : SinkDelivery.Rejected(reason);

    /// <summary>True for statuses worth retrying: 408, 429 and 5xx.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The delay a response asks for in <c>Retry-After</c> (seconds or an HTTP date), capped at <see cref="SinkResilienceOptions.MaxRetryAfter"/>.</summary>
    public TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var header = response.Headers.RetryAfter;
        TimeSpan? delay = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (delay is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > _options.MaxRetryAfter ? _options.MaxRetryAfter : value;
    }
}
