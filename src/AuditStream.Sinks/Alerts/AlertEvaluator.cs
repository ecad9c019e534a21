using AuditStream.Ledger;
using AuditStream.Sinks.Runtime;
using Microsoft.Extensions.Logging;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// Runs the <see cref="AlertEngine"/> as a cursor on the committed feed: fired alerts are appended to the ledger (so they are
/// audited, streamed and forwarded like any event), then the position and the open windows are saved in <c>sinks.db</c>.
/// After a restart evaluation resumes from there; a crash between the append and the save re-fires the same alert ids,
/// which the ledger's idempotency turns into no-ops.
/// </summary>
public sealed partial class AlertEvaluator : FeedCursor
{
    /// <summary>The cursor's name in <c>sinks.db</c>.</summary>
    public const string CursorName = "alerts";

    private const int SaveEvery = 1000;

    private readonly AlertOptions _options;
    private readonly AuditLedger _ledger;
    private readonly SinkStateStore _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AlertEngine _engine;
    private readonly long _endAtCreation;
    private long _fired;

    /// <summary>Creates the evaluator; <see cref="FeedCursor.Start"/> begins reading.</summary>
    public AlertEvaluator(AlertOptions options, AuditLedger ledger, SinkStateStore state, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _ledger = ledger;
        _state = state;
        _time = time;
        _logger = logger;
        _engine = new AlertEngine(options.Rules, time);

        // "End" means after what was committed when evaluation was set up, not when its background loop got going.
        _endAtCreation = ledger.Feed.LastSeq;
    }

    /// <summary>Alerts appended since start.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    /// <inheritdoc />
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var saved = await _state.GetCursorAsync(CursorName, cancellationToken).ConfigureAwait(false);
            var position = saved?.Position ?? (_options.StartAt == SinkStart.End ? _endAtCreation : 0);
            _engine.LoadState(saved?.State);
            var savedAt = position;
            Advance(position);
            await foreach (var record in _ledger.Feed.ReadAsync(position + 1, cancellationToken).ConfigureAwait(false))
            {
                var alerts = _engine.Process(record);
                if (alerts.Count > 0)
                {
                    await AppendAsync(alerts, cancellationToken).ConfigureAwait(false);
                }

                if (alerts.Count > 0 || record.Seq - savedAt >= SaveEvery || record.Seq >= _ledger.Feed.LastSeq)
                {
                    await _state.SaveCursorAsync(CursorName, record.Seq, _engine.SaveState(), cancellationToken).ConfigureAwait(false);
                    savedAt = record.Seq;
                }

                Advance(record.Seq);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.Crashed(_logger, ex);
        }
    }

    private async Task AppendAsync(IReadOnlyList<Events.AuditEvent> alerts, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var result = await _ledger.AppendAsync(alerts, defaultTenant: null, cancellationToken).ConfigureAwait(false);
                if (result.IsInvalid)
                {
                    // A rule produced an event the ledger refuses (a bug, not a transient state): report it and go on.
                    Log.Invalid(_logger, string.Join("; ", result.Errors));
                    return;
                }

                Interlocked.Add(ref _fired, alerts.Count);
                foreach (var alert in alerts)
                {
                    Log.Fired(_logger, alert.ActorId!, alert.Severity!, alert.TenantId ?? "");
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.AppendFailed(_logger, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(attempt, 10)))), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 820, EventName = "AlertFired", Level = LogLevel.Information, Message = "Alert rule {Rule} fired ({Severity}) for tenant {Tenant}")]
        public static partial void Fired(ILogger logger, string rule, string severity, string tenant);

        [LoggerMessage(EventId = 821, EventName = "AlertInvalid", Level = LogLevel.Error, Message = "An alert event was refused by the ledger: {Errors}")]
        public static partial void Invalid(ILogger logger, string errors);

        [LoggerMessage(EventId = 822, EventName = "AlertAppendFailed", Level = LogLevel.Warning, Message = "Appending an alert failed; retrying")]
        public static partial void AppendFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 823, EventName = "AlertEvaluatorStopped", Level = LogLevel.Error, Message = "Alert evaluation stopped on an error it cannot retry")]
        public static partial void Crashed(ILogger logger, Exception exception);
    }
}
