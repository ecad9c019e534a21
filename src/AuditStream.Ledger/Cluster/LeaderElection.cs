using Microsoft.Extensions.Logging;
using Npgsql;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// Elects the one writer of a shared ledger with a lease on the leader row: every <see cref="ClusterOptions.ElectionInterval"/>
/// the leader renews its lease and a follower tries to take an expired one, bumping the fencing term. A lease rather than
/// a session advisory lock: a paused leader's socket stays open (its kernel still answers keep-alives), so a lock would
/// never pass on, while a lease expires by the database's clock; the term in every commit (<see cref="WriterFence"/>)
/// makes the ex-leader harmless when it wakes.
/// </summary>
internal sealed partial class LeaderElection
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly WriterFence _fence;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<long, CancellationToken, Task> _beforeLeading;
    private long _renewedAt;

    /// <summary>An election over the leader row of <paramref name="dataSource"/>'s ledger; <paramref name="beforeLeading"/> runs after this
    /// instance took a term and before it commits under it (it catches up with the store).</summary>
    public LeaderElection(NpgsqlDataSource dataSource, WriterFence fence, ClusterOptions options, TimeProvider time, ILogger logger, Func<long, CancellationToken, Task> beforeLeading)
    {
        _dataSource = dataSource;
        _fence = fence;
        _options = options;
        _time = time;
        _logger = logger;
        _beforeLeading = beforeLeading;
        fence.Revoked += term =>
        {
            Log.SteppedDown(_logger, _options.InstanceId, term, "a commit found its term over");
            RoleChanged?.Invoke(false, term);
        };
    }

    /// <summary>Raised when this instance starts or stops leading, with the term (on the election's thread).</summary>
    public event Action<bool, long>? RoleChanged;

    /// <summary>Runs elections until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await StepAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping mid-round (a catch-up before leading can take a while): the round's work is given back.
                return;
            }

            try
            {
                await Task.Delay(_options.ElectionInterval, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round: renew the lease (leader) or try to take an expired one (follower). Never throws but for cancellation.</summary>
    public async Task StepAsync(CancellationToken cancellationToken)
    {
        var term = _fence.Term;
        try
        {
            if (term != 0)
            {
                await RenewAsync(term, cancellationToken);
            }
            else
            {
                await TryAcquireAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or LedgerCorruptException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            Log.ElectionFailed(_logger, ex, term);
            if (term != 0 && _time.GetElapsedTime(Volatile.Read(ref _renewedAt)) > _options.LeaseTime)
            {
                // The lease has run out by now wherever it is measured: another instance may be elected; stop acting as leader.
                StepDown(term, "its lease could not be renewed in time");
            }
        }
    }

    /// <summary>Gives the lease up at once (graceful stop), so another instance is elected within one interval.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        var term = _fence.Term;
        if (term == 0)
        {
            return;
        }

        StepDown(term, "it is stopping");
        try
        {
            await LeaderRow.ReleaseAsync(_dataSource, term, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.ElectionFailed(_logger, ex, term);
        }
    }

    private async Task RenewAsync(long term, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        if (await LeaderRow.RenewAsync(_dataSource, term, _options.LeaseTime, cancellationToken))
        {
            Volatile.Write(ref _renewedAt, started);
            return;
        }

        StepDown(term, "another instance holds a newer term");
    }

    private async Task TryAcquireAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        long? acquired;
        try
        {
            acquired = await LeaderRow.TryAcquireAsync(_dataSource, _options.InstanceId, _options.AdvertisedUrl, _options.LeaseTime, _options.ElectionInterval, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // The lease is over but a commit still holds the row: its writer stopped inside it. End that session; the
            // next round takes the lease.
            var ended = await LeaderRow.EndStaleWriterAsync(_dataSource, cancellationToken);
            Log.EndedStaleWriter(_logger, ended);
            return;
        }

        if (acquired is not { } term)
        {
            return;
        }

        try
        {
            // No other instance can commit once the term is bumped: what the store holds now is the whole ledger.
            await _beforeLeading(term, cancellationToken);
        }
        catch (Exception ex)
        {
            // Failed or stopped before leading: give the term back so another instance need not wait out the lease.
            await LeaderRow.ReleaseAsync(_dataSource, term, CancellationToken.None);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            Log.CatchUpFailed(_logger, ex, term);
            return;
        }

        Volatile.Write(ref _renewedAt, started);
        _fence.Hold(term);
        Log.Elected(_logger, _options.InstanceId, term);
        RoleChanged?.Invoke(true, term);
    }

    private void StepDown(long term, string reason)
    {
        if (_fence.Release(term))
        {
            Log.SteppedDown(_logger, _options.InstanceId, term, reason);
            RoleChanged?.Invoke(false, term);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 140, EventName = "LeaderElected", Level = LogLevel.Warning, Message = "Instance {Instance} was elected leader of the shared ledger with term {Term}; it commits from now on")]
        public static partial void Elected(ILogger logger, string instance, long term);

        [LoggerMessage(EventId = 141, EventName = "LeaderSteppedDown", Level = LogLevel.Warning, Message = "Instance {Instance} stepped down as leader (term {Term}): {Reason}; it follows the ledger and forwards appends")]
        public static partial void SteppedDown(ILogger logger, string instance, long term, string reason);

        [LoggerMessage(EventId = 142, EventName = "ElectionFailed", Level = LogLevel.Warning, Message = "The leader election could not reach the store (term held: {Term}); will retry")]
        public static partial void ElectionFailed(ILogger logger, Exception exception, long term);

        [LoggerMessage(EventId = 144, EventName = "StaleWriterEnded", Level = LogLevel.Warning, Message = "The leader's lease is over but one of its commits still held the leader row (its process is frozen or cut off); {Sessions} PostgreSQL session(s) of it ended, nothing of that commit is written")]
        public static partial void EndedStaleWriter(ILogger logger, int sessions);

        [LoggerMessage(EventId = 143, EventName = "LeaderCatchUpFailed", Level = LogLevel.Error, Message = "Elected with term {Term} but could not catch up with the store; the lease is given up")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception, long term);
    }
}
