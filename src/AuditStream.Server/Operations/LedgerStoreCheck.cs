using AuditStream.Ledger;
using AuditStream.Server.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// <c>ledger_store</c> (readiness): a shared ledger's store (PostgreSQL) answers a head read within
/// <see cref="OperationsOptions.StoreProbeTimeout"/>. Leaders and followers alike: a follower serves reads and forwards
/// appends, neither of which works without the store. The answer is reused for <see cref="OperationsOptions.StoreProbeCacheTime"/>
/// and one probe runs at a time, so <c>/ready</c> stays cheap; metric scrapes read the last answer and never probe.
/// A SQLite ledger is in this process's own file, which <c>ledger_writable</c> checks.
/// </summary>
internal sealed class LedgerStoreCheck(LedgerService ledgers, IOptionsMonitor<OperationsOptions> options, IOptions<LedgerOptions> ledgerOptions, TimeProvider time)
    : SynchronousHealthCheck
{
    private readonly Lock _gate = new();
    private HealthCheckResult _last = HealthCheckResult.Unhealthy("the store has not been probed yet");
    private DateTimeOffset _lastAt = DateTimeOffset.MinValue;
    private Task<HealthCheckResult>? _probe;

    /// <summary>The last probe's answer (no I/O).</summary>
    public override HealthCheckResult Check()
    {
        if (Precondition() is { } answer)
        {
            return answer;
        }

        lock (_gate)
        {
            return _last;
        }
    }

    public override async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (Precondition() is { } answer)
        {
            return answer;
        }

        TaskCompletionSource<HealthCheckResult>? mine = null;
        Task<HealthCheckResult> probe;
        lock (_gate)
        {
            if (time.GetUtcNow() - _lastAt < options.CurrentValue.StoreProbeCacheTime)
            {
                return _last;
            }

            if (_probe is null)
            {
                mine = new TaskCompletionSource<HealthCheckResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                _probe = mine.Task;
            }

            probe = _probe;
        }

        if (mine is not null)
        {
            // Probed outside the lock and published before it is cleared, so a probe that completes at once cannot leave a finished task behind.
            var result = await ProbeAsync();
            lock (_gate)
            {
                _last = result;
                _lastAt = time.GetUtcNow();
                _probe = null;
            }

            mine.SetResult(result);
        }

        // The probe is shared by concurrent requests, so it never takes any one request's token.
        return await probe.WaitAsync(cancellationToken);
    }

    private HealthCheckResult? Precondition()
    {
        if (ledgerOptions.Value.Provider == LedgerProvider.Sqlite)
        {
            return HealthCheckResult.Healthy("SQLite: the ledger file is this instance's own (see ledger_writable)");
        }

        return ledgers.IsOpen ? null : HealthCheckResult.Unhealthy("the ledger is not open");
    }

    private async Task<HealthCheckResult> ProbeAsync()
    {
        var timeout = options.CurrentValue.StoreProbeTimeout;
        var started = time.GetTimestamp();
        try
        {
            using var cts = new CancellationTokenSource(timeout, time);
            var head = await ledgers.Ledger.Store.ReadHeadAsync(cts.Token).WaitAsync(timeout, time, cts.Token);
            return HealthCheckResult.Healthy($"{ledgers.Ledger.Describe} answered in {time.GetElapsedTime(started).TotalMilliseconds:F0} ms (last seq {head.LastSeq})");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var why = ex is OperationCanceledException or TimeoutException
                ? $"no answer within {OperationsOptions.SectionName}:StoreProbeTimeout ({timeout.TotalSeconds:F1} s)"
                : ex.Message;
            return HealthCheckResult.Unhealthy($"{ledgers.Ledger.Describe} is unreachable: {why}");
        }
    }
}
