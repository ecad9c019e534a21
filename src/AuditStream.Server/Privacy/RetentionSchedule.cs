using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Privacy;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Privacy;

/// <summary>
/// Applies the retention rules every <see cref="PrivacyOptions.RetentionInterval"/> (off when null), on the cluster's
/// leader only: a follower's tick is counted and skipped, so with several instances on PostgreSQL exactly the one
/// holding the writer fence sweeps (a single SQLite instance is always the leader). A sweep is a sequence of erasures,
/// each crash-safe on its own: one interrupted by a crash, a lost lease or shutdown is resumed by the next sweep (on
/// whichever instance leads then), which completes a destroyed key's missing erasure event.
/// </summary>
internal sealed partial class RetentionSchedule(
    IOptions<LedgerOptions> options, LedgerService ledgers, TimeProvider time, RetentionMetrics metrics, ILogger<RetentionSchedule> logger) : BackgroundService
{
    /// <summary>Raised after each applied sweep (tests wait on it).</summary>
    public event Action<RetentionResult>? Completed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var privacy = options.Value.Privacy;
        if (privacy.RetentionInterval is not { } interval || privacy.Retention.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TickAsync(privacy.Retention, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: an erasure in progress is resumed by the next sweep.
        }
    }

    private async Task TickAsync(IReadOnlyList<RetentionPolicy> rules, CancellationToken stoppingToken)
    {
        if (!ledgers.IsOpen || !ledgers.Ledger.IsLeader)
        {
            metrics.Scheduled("follower");
            return;
        }

        RetentionResult result;
        try
        {
            result = await new RetentionSweep(ledgers.Ledger, rules, time).RunAsync(tenantId: null, apply: true, stoppingToken);
        }
        catch (Exception e) when (e is InvalidOperationException or LedgerUnavailableException or LedgerFencedException)
        {
            // Lost the lease or the ledger refused an erasure event: the next tick (here or on the new leader) resumes.
            metrics.Scheduled("failed");
            Log.Failed(logger, e.Message);
            return;
        }

        metrics.Scheduled("applied");
        metrics.Ran(result);
        if (result.Subjects.Count > 0 || result.Resumed > 0)
        {
            Log.Swept(logger, result.Subjects.Count, result.Events.Sum(c => c.Events), result.Resumed);
        }

        Completed?.Invoke(result);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1300, EventName = "RetentionSwept", Level = LogLevel.Information,
            Message = "Scheduled retention shredded {Subjects} data subjects ({Events} events) and completed {Resumed} interrupted erasures")]
        public static partial void Swept(ILogger logger, int subjects, long events, int resumed);

        [LoggerMessage(EventId = 1301, EventName = "RetentionFailed", Level = LogLevel.Warning,
            Message = "Scheduled retention stopped; the next run resumes it: {Reason}")]
        public static partial void Failed(ILogger logger, string reason);
    }
}
