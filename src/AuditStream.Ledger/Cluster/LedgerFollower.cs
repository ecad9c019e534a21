using AuditStream.Ledger.Writing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// Keeps a follower's writer head, Merkle frontier and committed feed up with the shared ledger: woken by each commit
/// signal (<see cref="Wake"/>) and, whatever the signal does, every <see cref="ClusterOptions.FollowerPollInterval"/>, it
/// reads the records the leader committed since. Idle while this instance holds the fence (it is the writer then).
/// </summary>
internal sealed partial class LedgerFollower
{
    private readonly LedgerWriter _writer;
    private readonly WriterFence _fence;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _storeSeq;
    private long _behindSince;
    private long _rounds;

    public LedgerFollower(LedgerWriter writer, WriterFence fence, ClusterOptions options, TimeProvider time, ILogger logger)
    {
        _writer = writer;
        _fence = fence;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Seqs the store holds beyond this instance's head, as of the last look (0 on the leader).</summary>
    public long LagSeqs => _fence.IsHeld ? 0 : Math.Max(0, Volatile.Read(ref _storeSeq) - _writer.Head.Size);

    /// <summary>How long this instance has been behind the store (zero when it is not).</summary>
    public TimeSpan LagTime
    {
        get
        {
            var since = Volatile.Read(ref _behindSince);
            return since == 0 || LagSeqs == 0 ? TimeSpan.Zero : _time.GetElapsedTime(since);
        }
    }

    /// <summary>Rounds that read the store (signal or poll), for tests.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>Makes the loop read the store now (a commit was announced, or a forwarded append was acknowledged).</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>Follows until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            try
            {
                await wake.Task.WaitAsync(_options.FollowerPollInterval, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The poll: a lost signal delays by at most one interval.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            if (_fence.IsHeld)
            {
                continue;
            }

            await FollowOnceAsync(cancellationToken);
        }
    }

    /// <summary>One read of the store; never throws but for cancellation.</summary>
    public async Task FollowOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var before = _writer.Head.Size;
            var storeSeq = await _writer.FollowStoreAsync(cancellationToken);
            Interlocked.Increment(ref _rounds);
            Volatile.Write(ref _storeSeq, storeSeq);
            var behind = storeSeq > _writer.Head.Size;
            if (!behind)
            {
                Volatile.Write(ref _behindSince, 0);
            }
            else if (Volatile.Read(ref _behindSince) == 0)
            {
                Volatile.Write(ref _behindSince, _time.GetTimestamp());
            }

            if (_writer.Head.Size > before)
            {
                Log.Followed(_logger, before + 1, _writer.Head.Size);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or LedgerCorruptException && !cancellationToken.IsCancellationRequested)
        {
            Log.FollowFailed(_logger, ex, _writer.Head.Size);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 145, EventName = "LedgerFollowed", Level = LogLevel.Trace, Message = "Followed the shared ledger: seqs {From}-{To}")]
        public static partial void Followed(ILogger logger, long from, long to);

        [LoggerMessage(EventId = 146, EventName = "FollowFailed", Level = LogLevel.Warning, Message = "Following the shared ledger failed at seq {Seq}; will retry at the next poll")]
        public static partial void FollowFailed(ILogger logger, Exception exception, long seq);
    }
}
