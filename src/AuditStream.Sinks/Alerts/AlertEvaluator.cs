using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Writing;
using AuditStream.Sinks.Runtime;
using Microsoft.Extensions.Logging;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// Runs the <see cref="AlertEngine"/> as a cursor on the committed feed: fired and resolved alerts are appended to the ledger
/// (so they are audited, streamed and forwarded like any event), then the position, the windows and the open alerts are
/// saved in the sink state store (<c>sinks.db</c>, or shared tables on PostgreSQL). After a restart evaluation resumes from there; a crash between the append and the save
/// produces the same alert ids again, which the ledger's idempotency turns into no-ops.
/// </summary>
/// <remarks>
/// Open alerts resolve on the commit time of the records read, so a replay resolves them at the same place. When the
/// evaluator has read everything committed and an open alert's quiet window has ended by the clock (plus
/// <see cref="ClockGrace"/>, for a commit that is on its way), it resolves it by the clock: a quiet system still gets its
/// <c>alert.resolved</c>. Either way the resolution has the same id and content.
/// </remarks>
public sealed partial class AlertEvaluator : FeedCursor
{
    /// <summary>The cursor's name in <c>sinks.db</c>.</summary>
    public const string CursorName = "alerts";

    /// <summary>
    /// How long past an open alert's deadline the clock must be before a quiet ledger resolves it: a commit stamped before
    /// the deadline may still be on its way to the feed.
    /// </summary>
    public static readonly TimeSpan ClockGrace = TimeSpan.FromSeconds(1);

    private const int SaveEvery = 1000;

    private readonly AlertOptions _options;
    private readonly AuditLedger _ledger;
    private readonly IEventAppender _appender;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AlertEngine _engine;
    private readonly long _endAtCreation;
    private long _fired;
    private long _resolved;

    /// <summary>
    /// Creates the evaluator; <see cref="FeedCursor.Start"/> begins reading once this instance holds the <c>alerts</c>
    /// lease, taken as <paramref name="holder"/> (default: <see cref="LeaseHolder.Local"/>). Alerts go through
    /// <paramref name="appender"/> (default: <paramref name="ledger"/> itself), which on a follower of a shared ledger
    /// must reach the leader: the lease may well be held by a follower.
    /// </summary>
    public AlertEvaluator(AlertOptions options, AuditLedger ledger, ISinkStateStore state, TimeProvider time, ILogger logger, LeaseHolder? holder = null, IEventAppender? appender = null)
        : base(CursorName, state, holder, time, logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ledger);
        _options = options;
        _ledger = ledger;
        _appender = appender ?? ledger;
        _time = time;
        _logger = logger;
        _engine = new AlertEngine(options.Rules, time);

        // "End" means after what was committed when evaluation was set up, not when its background loop got going.
        _endAtCreation = ledger.Feed.LastSeq;
    }

    /// <summary><c>alert.raised</c> events appended since start.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    /// <summary><c>alert.resolved</c> events appended since start.</summary>
    public long Resolved => Interlocked.Read(ref _resolved);

    /// <inheritdoc />
    protected override async Task RunAsync(CursorLease lease, CancellationToken cancellationToken)
    {
        try
        {
            var saved = await State.GetCursorAsync(CursorName, cancellationToken).ConfigureAwait(false);
            var position = saved?.Position ?? (_options.StartAt == SinkStart.End ? _endAtCreation : 0);
            _engine.LoadState(saved?.State);
            var savedAt = position;
            Advance(position);
            await using var records = _ledger.Feed.ReadAsync(position + 1, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                var next = records.MoveNextAsync();
                var more = next.IsCompleted ? await next.ConfigureAwait(false) : await WaitForRecordAsync(next.AsTask(), position, lease, cancellationToken).ConfigureAwait(false);
                if (!more)
                {
                    return;
                }

                var record = records.Current;
                var alerts = _engine.Process(record);
                if (alerts.Count > 0)
                {
                    EnsureHeld(lease);
                    await AppendAsync(alerts, cancellationToken).ConfigureAwait(false);
                }

                position = record.Seq;
                if (alerts.Count > 0 || position - savedAt >= SaveEvery || position >= _ledger.Feed.LastSeq)
                {
                    await SaveCursorAsync(lease, position, _engine.SaveState(), cancellationToken).ConfigureAwait(false);
                    savedAt = position;
                }

                Advance(position);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not LeaseLostException)
        {
            Log.Crashed(_logger, ex);
        }
    }

    /// <summary>
    /// Waits for the next record; meanwhile, when an open alert's quiet window ends by the clock and every committed record
    /// has been read, resolves it (and saves) without waiting for a record that may never come.
    /// </summary>
    private async Task<bool> WaitForRecordAsync(Task<bool> next, long position, CursorLease lease, CancellationToken cancellationToken)
    {
        while (!next.IsCompleted && _engine.NextResolution is { } due)
        {
            var wait = due + ClockGrace - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var first = await Task.WhenAny(next, Task.Delay(wait, _time, stop.Token)).ConfigureAwait(false);
                await stop.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (first == next || _time.GetUtcNow() < due + ClockGrace)
                {
                    continue;
                }
            }

            if (_ledger.Feed.LastSeq > position)
            {
                // Records are on their way: their commit times decide.
                break;
            }

            var alerts = _engine.ResolveDue(_time.GetUtcNow() - ClockGrace);
            if (alerts.Count > 0)
            {
                EnsureHeld(lease);
                await AppendAsync(alerts, cancellationToken).ConfigureAwait(false);
                await SaveCursorAsync(lease, position, _engine.SaveState(), cancellationToken).ConfigureAwait(false);
            }
        }

        return await next.ConfigureAwait(false);
    }

    private async Task AppendAsync(IReadOnlyList<AuditEvent> alerts, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var result = await _appender.AppendAsync(alerts, defaultTenant: null, cancellationToken).ConfigureAwait(false);
                if (result.IsInvalid)
                {
                    // A rule produced an event the ledger refuses (a bug, not a transient state): report it and go on.
                    Log.Invalid(_logger, string.Join("; ", result.Errors));
                    return;
                }

                if (result.Append is { Status: AppendStatus.Committed } append)
                {
                    for (var i = 0; i < alerts.Count; i++)
                    {
                        // A duplicate's receipt is the original record: the seq is the same on a replay.
                        Recorded(alerts[i], append.Events[i].Receipt.Seq);
                    }

                    return;
                }

                if (result.Append is { Status: AppendStatus.IdConflict } conflict)
                {
                    // A replay after a crash can rebuild an alert that is already recorded with other details (a window
                    // refilled differently): the recorded one stands. Append the others again.
                    var conflicting = new HashSet<int>();
                    foreach (var (index, existing) in conflict.Conflicts)
                    {
                        conflicting.Add(index);
                        if (existing is not null)
                        {
                            Recorded(alerts[index], existing.Seq);
                        }
                        else
                        {
                            // Two alerts with one id and other details in one batch: a rule bug; the first one stands.
                            Log.DuplicateAlert(_logger, alerts[index].Id!.Value, alerts[index].ActorId ?? "");
                        }
                    }

                    alerts = [.. alerts.Where((_, i) => !conflicting.Contains(i))];
                    if (alerts.Count == 0)
                    {
                        return;
                    }

                    continue;
                }

                Log.AppendFailed(_logger, new InvalidOperationException($"The ledger answered {result.Append?.Status}."));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.AppendFailed(_logger, ex);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(attempt, 10)))), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Recorded(AuditEvent alert, long seq)
    {
        if (alert.Type == AlertInfo.RaisedType)
        {
            _engine.Committed(alert.Id!.Value, seq);
            Interlocked.Increment(ref _fired);
            Log.Fired(_logger, alert.ActorId!, alert.Severity!, alert.TenantId ?? "");
        }
        else
        {
            Interlocked.Increment(ref _resolved);
            Log.Resolved(_logger, alert.ActorId!, alert.TenantId ?? "");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 820, EventName = "AlertFired", Level = LogLevel.Information, Message = "Alert rule {Rule} fired ({Severity}) for tenant {Tenant}")]
        public static partial void Fired(ILogger logger, string rule, string severity, string tenant);

        [LoggerMessage(EventId = 821, EventName = "AlertInvalid", Level = LogLevel.Error, Message = "An alert event was refused by the ledger: {Errors}")]
        public static partial void Invalid(ILogger logger, string errors);

        [LoggerMessage(EventId = 825, EventName = "AlertDuplicate", Level = LogLevel.Error, Message = "Alert {Id} of rule {Rule} was produced twice with different details in one batch; the first one is kept")]
        public static partial void DuplicateAlert(ILogger logger, Guid id, string rule);

        [LoggerMessage(EventId = 822, EventName = "AlertAppendFailed", Level = LogLevel.Warning, Message = "Appending an alert failed; retrying")]
        public static partial void AppendFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 824, EventName = "AlertResolved", Level = LogLevel.Information, Message = "Alert rule {Rule} resolved for tenant {Tenant}")]
        public static partial void Resolved(ILogger logger, string rule, string tenant);

        [LoggerMessage(EventId = 823, EventName = "AlertEvaluatorStopped", Level = LogLevel.Error, Message = "Alert evaluation stopped on an error it cannot retry")]
        public static partial void Crashed(ILogger logger, Exception exception);
    }
}
