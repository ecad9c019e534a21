using AuditStream.Ledger;
using AuditStream.Server.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary><c>ledger_open</c> (startup and readiness): the ledger is open, its schema migrated and its signing key loaded.</summary>
internal sealed class LedgerOpenCheck(LedgerService ledgers) : SynchronousHealthCheck
{
    public override HealthCheckResult Check() =>
        ledgers.IsOpen
            ? HealthCheckResult.Healthy($"ledger open at tree size {ledgers.Ledger.Head.Size}")
            : HealthCheckResult.Unhealthy("the ledger is not open yet (migrations or signing key pending)");
}

/// <summary>
/// <c>ledger_writable</c> (readiness): no commit failed within <see cref="OperationsOptions.CommitFailureWindow"/>
/// without a success since, and, with SQLite, the file is not read-only and its directory takes a new file. The file itself is never opened here: closing another descriptor of a SQLite file would drop
/// SQLite's POSIX locks on it. With PostgreSQL the commits are the probe.
/// </summary>
internal sealed class LedgerWritableCheck(LedgerService ledgers, IOptionsMonitor<OperationsOptions> options, IOptions<LedgerOptions> ledgerOptions, TimeProvider time) : SynchronousHealthCheck
{
    public override HealthCheckResult Check()
    {
        if (!ledgers.IsOpen)
        {
            return HealthCheckResult.Unhealthy("the ledger is not open");
        }

        var ledger = ledgers.Ledger;
        var status = ledger.Writer.Status;
        // A commit refused by the fence is a step-down, not a broken ledger: the follower forwards from then on.
        if (ledger.IsLeader && status.LastCommitFailed && time.GetUtcNow() - status.LastFailureAt < options.CurrentValue.CommitFailureWindow)
        {
            return HealthCheckResult.Unhealthy($"the last commit failed at {status.LastFailureAt:O}: {status.LastFailure}");
        }

        if (ledgerOptions.Value.Provider != LedgerProvider.Sqlite)
        {
            return HealthCheckResult.Healthy($"{ledger.Describe}: no failed commit");
        }

        var path = ledgerOptions.Value.DatabasePath;
        try
        {
            if (File.Exists(path) && (File.GetAttributes(path) & FileAttributes.ReadOnly) != 0)
            {
                return HealthCheckResult.Unhealthy($"the ledger file {path} is read-only");
            }

            var probe = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".write-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"the ledger directory of {path} is not writable: {ex.Message}");
        }

        return HealthCheckResult.Healthy($"{path} writable");
    }
}

/// <summary><c>ledger_writer</c> (readiness): the writer loop runs and no commit has taken longer than <see cref="OperationsOptions.WriterStallTimeout"/>.</summary>
internal sealed class LedgerWriterCheck(LedgerService ledgers, IOptionsMonitor<OperationsOptions> options) : SynchronousHealthCheck
{
    public override HealthCheckResult Check()
    {
        if (!ledgers.IsOpen)
        {
            return HealthCheckResult.Unhealthy("the ledger is not open");
        }

        var writer = ledgers.Ledger.Writer;
        var status = writer.Status;
        var limit = options.CurrentValue.WriterStallTimeout;
        if (!status.Running)
        {
            return HealthCheckResult.Unhealthy("the ledger writer has stopped");
        }

        if (status.CommitRunningFor is { } running && running > limit)
        {
            return HealthCheckResult.Unhealthy(
                $"stalled: a commit has run for {running.TotalSeconds:F1} s, over {OperationsOptions.SectionName}:WriterStallTimeout ({limit.TotalSeconds:F1} s); {writer.QueuedEvents} events queued");
        }

        return HealthCheckResult.Healthy($"{writer.QueuedEvents} events queued");
    }
}

/// <summary>A health check that answers at once (no I/O to await), so metrics can read it on a scrape too.</summary>
internal abstract class SynchronousHealthCheck : IHealthCheck
{
    public abstract HealthCheckResult Check();

    public virtual Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check());
}
