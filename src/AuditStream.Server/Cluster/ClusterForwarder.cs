using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger.Cluster;
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
/// without one an id before the first attempt), so a retry never writes an event twice.
/// </summary>
internal sealed partial class ClusterForwarder : IDisposable
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(200);

    private readonly LedgerService _ledgers;
    private readonly ClusterOptions _options;
    private readonly ServerOptions _serverOptions;
    private readonly IngestMetrics _metrics;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<IResult?> _pipeline;

    public ClusterForwarder(LedgerService ledgers, IOptions<ClusterOptions> options, IOptions<ServerOptions> serverOptions, IngestMetrics metrics, TimeProvider time, ILogger<ClusterForwarder> logger)
    {
        _ledgers = ledgers;
        _options = options.Value;
        _serverOptions = serverOptions.Value;
        _metrics = metrics;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = _options.ForwardTimeout,
        };

        // An attempt that found no leader, a leader that is gone or one that is no longer the leader yields null: try again
        // (reading the leader row anew) until ForwardTimeout.
        _pipeline = new ResiliencePipelineBuilder<IResult?> { TimeProvider = time }
            .AddTimeout(_options.ForwardTimeout)
            .AddRetry(new RetryStrategyOptions<IResult?>
            {
                ShouldHandle = new PredicateBuilder<IResult?>()
                    .HandleResult(static r => r is null)
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>(),
                MaxRetryAttempts = int.MaxValue,
                Delay = s_retryDelay,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = true,
            })
            .Build();
    }

    /// <summary>The leader's response to <paramref name="events"/>, or 503 when no leader answered within <see cref="ClusterOptions.ForwardTimeout"/>.</summary>
    public async Task<IResult> ForwardAsync(HttpContext http, AuditEvent[] events, string? tenant, bool single, CancellationToken cancellationToken)
    {
        // Ids first: a retry after a failover must name the same events.
        var withIds = new AuditEvent[events.Length];
        for (var i = 0; i < events.Length; i++)
        {
            withIds[i] = events[i].Id is null ? events[i] with { Id = Guid.CreateVersion7() } : events[i];
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(withIds, AuditEventReading.Array);
        var credential = _ledgers.Credential;
        string? lastProblem = null;
        try
        {
            var result = await _pipeline.ExecuteAsync(
                async ct =>
                {
                    if (await IngestCommit.CommitAsync(http, withIds, tenant, single, _ledgers, _serverOptions, _metrics, ct) is { } local)
                    {
                        return local;
                    }

                    var leader = await _ledgers.Ledger.Cluster!.ReadLeaderAsync(ct);
                    if (!leader.LeaseValid || leader.AdvertisedUrl is null || leader.Holder == _options.InstanceId)
                    {
                        lastProblem = !leader.LeaseValid ? "no instance holds the leader lease"
                            : leader.AdvertisedUrl is null ? $"the leader {leader.Holder} advertises no URL ({ClusterOptions.SectionName}:AdvertisedUrl)"
                            : "this instance is being elected";
                        return null;
                    }

                    lastProblem = $"the leader {leader.Holder} at {leader.AdvertisedUrl} did not answer";
                    return await SendAsync(http, new Uri(new Uri(leader.AdvertisedUrl), ClusterEndpoints.Path), credential, body, tenant, single, ct);
                },
                cancellationToken);
            _ledgers.Ledger.Cluster?.WakeFollower();
            return result!;
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            Log.ForwardTimedOut(_logger, events.Length, _options.ForwardTimeout.TotalSeconds, lastProblem ?? "");
            return Problems.NoLeader(
                $"No leader acknowledged the events within {_options.ForwardTimeout.TotalSeconds} s ({ClusterOptions.SectionName}:ForwardTimeout): {lastProblem}. " +
                "They may have been committed; re-sending them with their ids is safe.",
                _serverOptions.RetryAfterSeconds);
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<IResult?> SendAsync(HttpContext http, Uri target, ClusterCredential credential, byte[] body, string? tenant, bool single, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        credential.Sign(request, tenant, single, body);
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
        {
            // Not (or no longer) the leader: ask the leader row again.
            return null;
        }

        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.Headers.Location is { } location)
        {
            http.Response.Headers.Location = location.ToString();
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter.ToString();
        }

        return new LeaderResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), content);
    }

    /// <summary>The leader's answer, written to the producer as it came.</summary>
    private sealed class LeaderResponse(int status, string? contentType, byte[] body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = contentType;
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, httpContext.RequestAborted);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 160, EventName = "ForwardTimedOut", Level = LogLevel.Warning, Message = "No leader acknowledged {Events} forwarded events within {Seconds} s: {Problem}")]
        public static partial void ForwardTimedOut(ILogger logger, int events, double seconds, string problem);
    }
}
