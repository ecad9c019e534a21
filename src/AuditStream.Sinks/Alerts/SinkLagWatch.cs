using System.Globalization;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Writing;
using AuditStream.Sinks.Runtime;
using Microsoft.Extensions.Logging;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// Checks every sink's lag each <see cref="SinkLagOptions.CheckInterval"/>: a sink whose oldest unhandled event is older
/// than <see cref="SinkLagOptions.MaxLag"/> gets an <c>alert.raised</c> system alert (rule <c>sink-lag</c>, group key the
/// sink's name), and an <c>alert.resolved</c> once it is back under. Ids derive from the sink and its position when the
/// lag was found, so a restart during the same episode does not record it twice.
/// </summary>
public sealed partial class SinkLagWatch : IAsyncDisposable
{
    /// <summary>The rule name in <c>metadata.alert.rule</c>.</summary>
    public const string RuleName = "sink-lag";

    private readonly SinkLagOptions _options;
    private readonly IReadOnlyList<SinkRunner> _runners;
    private readonly IEventAppender _appender;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, long> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _fired;
    private long _resolved;

    /// <summary>Creates the watch; <see cref="Start"/> begins checking. Alerts go through <paramref name="appender"/> (the ledger itself, or the server's path to the leader of a shared ledger).</summary>
    public SinkLagWatch(SinkLagOptions options, IReadOnlyList<SinkRunner> runners, IEventAppender appender, TimeProvider time, ILogger logger)
    {
        _options = options;
        _runners = runners;
        _appender = appender;
        _time = time;
        _logger = logger;
    }

    /// <summary><c>alert.raised</c> events appended since start.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    /// <summary><c>alert.resolved</c> events appended since start.</summary>
    public long Resolved => Interlocked.Read(ref _resolved);

    /// <summary>Starts checking in the background.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One check of every sink; appends the alerts it raises or resolves and returns them.</summary>
    public async Task<IReadOnlyList<AuditEvent>> CheckAsync(CancellationToken cancellationToken)
    {
        var alerts = new List<AuditEvent>();
        foreach (var runner in _runners)
        {
            var status = await runner.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            var lagging = status.LagEvents > 0 && status.LagSeconds > _options.MaxLag.TotalSeconds;
            if (lagging && !_open.ContainsKey(runner.Name))
            {
                _open[runner.Name] = status.Position;
                var summary = string.Create(CultureInfo.InvariantCulture, $"sink {runner.Name} is {status.LagSeconds:0} s ({status.LagEvents} events) behind: {status.LastError ?? "no error recorded"}");
                alerts.Add(Alert(AlertInfo.RaisedType, runner.Name, status.Position, summary));
            }
            else if (!lagging && _open.Remove(runner.Name, out var since))
            {
                alerts.Add(Alert(AlertInfo.ResolvedType, runner.Name, since, $"sink {runner.Name} caught up"));
            }
        }

        if (alerts.Count > 0)
        {
            var result = await _appender.AppendAsync(alerts, defaultTenant: null, cancellationToken).ConfigureAwait(false);
            if (result.IsInvalid)
            {
                Log.Invalid(_logger, string.Join("; ", result.Errors));
            }
            else
            {
                Interlocked.Add(ref _fired, alerts.Count(static a => a.Type == AlertInfo.RaisedType));
                Interlocked.Add(ref _resolved, alerts.Count(static a => a.Type == AlertInfo.ResolvedType));
            }
        }

        return alerts;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CheckInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await CheckAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.CheckFailed(_logger, ex);
            }
        }
    }

    private AuditEvent Alert(string type, string sink, long position, string summary)
    {
        var info = new AlertInfo(RuleName, summary, [position + 1], sink);
        return new AuditEvent
        {
            Id = type == AlertInfo.RaisedType ? AlertEngine.AlertId(RuleName, "", sink, position) : AlertEngine.ResolvedId(RuleName, "", sink, position),
            Type = type,

            // The resolution keeps the alert's severity, so whatever filters or routes by severity sees both.
            Severity = _options.Severity,
            Category = "system",
            ActorId = RuleName,
            ActorType = "alert_rule",
            TargetId = sink,
            TargetType = "sink",
            Action = type == AlertInfo.RaisedType ? "raise" : "resolve",
            Outcome = "success",
            OccurredAt = _time.GetUtcNow(),
            Source = new EventSource { Service = "auditstream" },
            Metadata = info.ToMetadata(),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 830, EventName = "SinkLagAlertInvalid", Level = LogLevel.Error, Message = "A sink-lag alert was refused by the ledger: {Errors}")]
        public static partial void Invalid(ILogger logger, string errors);

        [LoggerMessage(EventId = 831, EventName = "SinkLagCheckFailed", Level = LogLevel.Warning, Message = "Checking sink lag failed")]
        public static partial void CheckFailed(ILogger logger, Exception exception);
    }
}
