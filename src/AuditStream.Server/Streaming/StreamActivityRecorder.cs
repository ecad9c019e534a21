using System.Text.Json;
using System.Threading.Channels;
using AuditStream.Events;
using AuditStream.Ledger.Writing;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Streaming;

/// <summary>
/// Writes the live stream's own activity into the ledger as <c>system</c> audit events (<c>stream.connection.opened</c>,
/// <c>.refused</c>, <c>.slow_consumer</c>, <c>stream.filters.updated</c>). Recording never waits: activity goes to a bounded
/// queue, at most <see cref="HubOptions.ActivityEventsPerSecond"/> are written, and what is skipped is counted in the
/// next event's <c>metadata.suppressed_before</c>, so a connection storm cannot flood the ledger.
/// </summary>
internal sealed partial class StreamActivityRecorder : IStreamActivitySink, IHostedService, IDisposable
{
    private readonly HubOptions _options;
    private readonly Func<AuditEvent, string?, CancellationToken, Task> _append;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<StreamActivity> _queue = Channel.CreateBounded<StreamActivity>(new BoundedChannelOptions(1024) { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private long _suppressed;
    private long _windowStart;
    private int _inWindow;
    private Task _loop = Task.CompletedTask;

    /// <summary>Writes through <paramref name="appender"/>: on a follower of a shared ledger, to the leader.</summary>
    public StreamActivityRecorder(IOptions<HubOptions> options, IEventAppender appender, TimeProvider time, ILogger<StreamActivityRecorder> logger)
        : this(options.Value, (e, tenant, ct) => appender.AppendAsync([e], tenant, ct), time, logger)
    {
    }

    internal StreamActivityRecorder(HubOptions options, Func<AuditEvent, string?, CancellationToken, Task> append, TimeProvider time, ILogger logger)
    {
        _options = options;
        _append = append;
        _time = time;
        _logger = logger;
        _windowStart = time.GetTimestamp();
    }

    /// <summary>Activities skipped so far and not yet reported.</summary>
    public long Suppressed => Interlocked.Read(ref _suppressed);

    public void Record(StreamActivity activity)
    {
        if (_options.RecordActivity && !_queue.Writer.TryWrite(activity))
        {
            Interlocked.Increment(ref _suppressed);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _loop;
    }

    public void Dispose() => _stop.Dispose();

    /// <summary>Writes or suppresses one activity (the loop's step; tests drive it directly).</summary>
    internal async Task ProcessAsync(StreamActivity activity, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (now - _windowStart >= _time.TimestampFrequency)
        {
            _windowStart = now;
            _inWindow = 0;
        }

        if (++_inWindow > _options.ActivityEventsPerSecond)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }

        var suppressed = Interlocked.Exchange(ref _suppressed, 0);
        try
        {
            await _append(ToEvent(activity, suppressed), activity.TenantId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The audit trail of the stream must not take the stream down; count it as suppressed.
            Interlocked.Add(ref _suppressed, suppressed + 1);
            Log.Failed(_logger, ex);
        }
    }

    internal static AuditEvent ToEvent(StreamActivity activity, long suppressedBefore)
    {
        var (type, severity) = activity.Kind switch
        {
            StreamActivityKinds.Opened => ("stream.connection.opened", "info"),
            StreamActivityKinds.Refused => ("stream.connection.refused", "warning"),
            StreamActivityKinds.SlowConsumer => ("stream.connection.slow_consumer", "warning"),
            StreamActivityKinds.FiltersUpdated => ("stream.filters.updated", "info"),
            _ => ("stream.activity", "info"),
        };
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("transport", activity.Transport);
            if (activity.Role is not null)
            {
                writer.WriteString("role", activity.Role);
            }

            if (activity.Detail is not null)
            {
                writer.WriteString("detail", activity.Detail);
            }

            writer.WriteNumber("suppressed_before", suppressedBefore);
            writer.WriteEndObject();
        }

        using var metadata = JsonDocument.Parse(buffer.ToArray());
        return new AuditEvent
        {
            Type = type,
            Severity = severity,
            Category = "system",
            ActorId = activity.Subject ?? "anonymous",
            ActorType = "stream_client",
            TargetId = activity.ClientId,
            TargetType = activity.ClientId is null ? null : "stream_connection",
            Action = activity.Kind,
            Outcome = activity.Kind == StreamActivityKinds.Refused ? "failure" : "success",
            TenantId = activity.TenantId,
            Source = new EventSource { Service = "auditstream", Ip = activity.RemoteAddress },
            Metadata = metadata.RootElement.Clone(),
        };
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var activity in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                await ProcessAsync(activity, _stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: what is still queued is dropped with the process.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "StreamActivityNotRecorded", Level = LogLevel.Warning, Message = "A stream activity could not be written to the ledger; it is counted as suppressed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
