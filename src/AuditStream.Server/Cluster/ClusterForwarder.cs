using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Writing;
using AuditStream.Server.Api;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace AuditStream.Server.Cluster;

/// <summary>
/// Hands appends that reach a follower to the leader of the shared ledger (<see cref="ClusterEndpoints"/>), and answers the
/// producer with the leader's response as it came: the same receipts and status codes as on the leader, sent only after
/// its durable commit. Across a failover the same events go again, with the same ids (the follower gives every event
/// without one an id before the first attempt), so a retry never writes an event twice. The server's own components
/// append through it too (<see cref="IEventAppender"/>): on the leader to the local ledger, on a follower to the leader,
/// with the writer's result as the answer either way.
/// </summary>
internal sealed partial class ClusterForwarder : IEventAppender, IDisposable
{
    private const int MaxAnswerBytes = 64 * 1024 * 1024;
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(200);

    private readonly LedgerService _ledgers;
    private readonly ClusterOptions _options;
    private readonly ServerOptions _serverOptions;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<IResult?> _pipeline;
    private readonly ResiliencePipeline<LedgerAppendResult?> _internalPipeline;

    public ClusterForwarder(LedgerService ledgers, IOptions<ClusterOptions> options, IOptions<ServerOptions> serverOptions, TimeProvider time, ILogger<ClusterForwarder> logger)
    {
        _ledgers = ledgers;
        _options = options.Value;
        _serverOptions = serverOptions.Value;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = _options.ForwardTimeout,
        };

        _pipeline = UntilForwardTimeout<IResult>(time);
        _internalPipeline = UntilForwardTimeout<LedgerAppendResult>(time);
    }

    /// <summary>
    /// The leader's response to the events of <paramref name="body"/>, or 503 when no leader answered within
    /// <see cref="ClusterOptions.ForwardTimeout"/>. Should this instance become the leader meanwhile,
    /// <paramref name="commitHere"/> commits them locally (it answers null while this instance does not lead).
    /// </summary>
    public async Task<IResult> ForwardAsync(HttpContext http, ForwardBody body, string? tenant, bool single, Func<CancellationToken, Task<IResult?>> commitHere, CancellationToken cancellationToken)
    {
        var credential = _ledgers.Credential;
        string? lastProblem = null;
        try
        {
            var result = await _pipeline.ExecuteAsync(
                async ct =>
                {
                    if (await commitHere(ct) is { } local)
                    {
                        return local;
                    }

                    var target = await LeaderAsync(problem => lastProblem = problem, ct);
                    return target is null ? null : await SendAsync(http, target, credential, body, tenant, single, ct);
                },
                cancellationToken);
            _ledgers.Ledger.Cluster?.WakeFollower();
            return result!;
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            Log.ForwardTimedOut(_logger, body.Count, _options.ForwardTimeout.TotalSeconds, lastProblem ?? "");
            return Problems.NoLeader(
                $"No leader acknowledged the events within {_options.ForwardTimeout.TotalSeconds} s ({ClusterOptions.SectionName}:ForwardTimeout): {lastProblem}. " +
                "They may have been committed; re-sending them with their ids is safe.",
                _serverOptions.RetryAfterSeconds);
        }
    }

    /// <summary>
    /// Appends the server's own <paramref name="events"/>: to the local ledger while this instance leads it (or when it is
    /// not shared), else to the leader. Throws <see cref="LedgerUnavailableException"/> when no leader answered within
    /// <see cref="ClusterOptions.ForwardTimeout"/>; the events may have been committed, and appending them again is safe.
    /// </summary>
    public async Task<LedgerAppendResult> AppendAsync(IReadOnlyList<AuditEvent> events, string? defaultTenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var ledger = _ledgers.Ledger;
        if (ledger.Cluster is null)
        {
            return await ledger.AppendAsync(events, defaultTenant, cancellationToken);
        }

        using var body = ForwardBody.Serialize(events);
        var withIds = body.Events!;
        string? lastProblem = null;
        try
        {
            var result = await _internalPipeline.ExecuteAsync(
                async ct =>
                {
                    if (ledger.IsLeader)
                    {
                        try
                        {
                            return await ledger.AppendAsync(withIds, defaultTenant, ct);
                        }
                        catch (LedgerUnavailableException) when (!ledger.IsLeader)
                        {
                            // Stepped down while the events waited: nothing was written; the new leader takes them.
                        }
                    }

                    var target = await LeaderAsync(problem => lastProblem = problem, ct);
                    if (target is null)
                    {
                        return null;
                    }

                    return await SendInternalAsync(target, body, defaultTenant, ct);
                },
                cancellationToken);
            ledger.Cluster.WakeFollower();
            return result!;
        }
        catch (Polly.Timeout.TimeoutRejectedException ex)
        {
            Log.ForwardTimedOut(_logger, events.Count, _options.ForwardTimeout.TotalSeconds, lastProblem ?? "");
            throw new LedgerUnavailableException(
                $"No leader acknowledged {events.Count} internal event(s) within {_options.ForwardTimeout.TotalSeconds} s ({ClusterOptions.SectionName}:ForwardTimeout): {lastProblem}. " +
                "They may have been committed; appending them again with their ids is safe.",
                ex);
        }
    }

    public void Dispose() => _http.Dispose();

    // An attempt that found no leader, a leader that is gone or one that is no longer the leader yields null: try again
    // (reading the leader row anew) until ForwardTimeout.
    private ResiliencePipeline<T?> UntilForwardTimeout<T>(TimeProvider time)
        where T : class =>
        new ResiliencePipelineBuilder<T?> { TimeProvider = time }
            .AddTimeout(_options.ForwardTimeout)
            .AddRetry(new RetryStrategyOptions<T?>
            {
                ShouldHandle = new PredicateBuilder<T?>()
                    .HandleResult(static r => r is null)
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>(),
                MaxRetryAttempts = int.MaxValue,
                Delay = s_retryDelay,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = true,
            })
            .Build();

    /// <summary>The leader's endpoint for forwarded appends, or null (and why, to <paramref name="problem"/>) when there is none to ask now.</summary>
    private async Task<Uri?> LeaderAsync(Action<string> problem, CancellationToken cancellationToken)
    {
        var leader = await _ledgers.Ledger.Cluster!.ReadLeaderAsync(cancellationToken);
        if (!leader.LeaseValid || leader.AdvertisedUrl is null || leader.Holder == _options.InstanceId)
        {
            problem(!leader.LeaseValid ? "no instance holds the leader lease"
                : leader.AdvertisedUrl is null ? $"the leader {leader.Holder} advertises no URL ({ClusterOptions.SectionName}:AdvertisedUrl)"
                : "this instance is being elected");
            return null;
        }

        problem($"the leader {leader.Holder} at {leader.AdvertisedUrl} did not answer");
        return new Uri(new Uri(leader.AdvertisedUrl), ClusterEndpoints.Path);
    }

    private async Task<LedgerAppendResult?> SendInternalAsync(Uri target, ForwardBody body, string? tenant, CancellationToken cancellationToken)
    {
        using var request = Request(target, body);
        _ledgers.Credential.Sign(request, tenant, ClusterCredential.InternalShape, body.Memory.Span);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
        {
            return null;
        }

        if (response.StatusCode is HttpStatusCode.ServiceUnavailable)
        {
            throw new LedgerUnavailableException($"The leader at {target.Authority} could not append: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        if (!response.IsSuccessStatusCode)
        {
            // The leader refused the request itself (credential, body): a bug or a misconfiguration, not a state to wait out.
            throw new InvalidOperationException($"The leader at {target.Authority} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        await using var content = await response.Content.ReadAsStreamAsync(cancellationToken);
        var answer = await JsonSerializer.DeserializeAsync(content, ClusterJsonContext.Default.InternalAppendResponse, cancellationToken)
            ?? throw new InvalidOperationException($"The leader at {target.Authority} answered an internal append with null.");
        return answer.ToResult();
    }

    private static HttpRequestMessage Request(Uri target, ForwardBody body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ReadOnlyMemoryContent(body.Memory) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return request;
    }

    private async Task<IResult?> SendAsync(HttpContext http, Uri target, ClusterCredential credential, ForwardBody body, string? tenant, bool single, CancellationToken cancellationToken)
    {
        using var request = Request(target, body);
        credential.Sign(request, tenant, single ? ClusterCredential.SingleShape : ClusterCredential.BatchShape, body.Memory.Span);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
        {
            // Not (or no longer) the leader: ask the leader row again.
            return null;
        }

        // Read whole inside the attempt: an answer cut off on the way is retried with the same ids, never half passed on.
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var content = await IngestEndpoints.ReadBodyAsync(stream, MaxAnswerBytes, cancellationToken)
            ?? throw new InvalidOperationException($"The leader at {target.Authority} answered with more than {MaxAnswerBytes} bytes.");
        var answer = new LeaderResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), content);
        http.Response.RegisterForDispose(answer);
        if (response.Headers.Location is { } location)
        {
            http.Response.Headers.Location = location.ToString();
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter.ToString();
        }

        return answer;
    }

    /// <summary>The leader's answer, written to the producer as it came; its pooled buffer goes back with the request.</summary>
    private sealed class LeaderResponse(int status, string? contentType, IngestEndpoints.PooledBody body) : IResult, IDisposable
    {
        private int _disposed;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = contentType;
            response.ContentLength = body.Memory.Length;
            await response.Body.WriteAsync(body.Memory, httpContext.RequestAborted);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                body.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 160, EventName = "ForwardTimedOut", Level = LogLevel.Warning, Message = "No leader acknowledged {Events} forwarded events within {Seconds} s: {Problem}")]
        public static partial void ForwardTimedOut(ILogger logger, int events, double seconds, string problem);
    }
}
