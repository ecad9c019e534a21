using System.Collections.Concurrent;
using AuditStream.Ledger.Writing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// Keeps a follower's writer head, Merkle frontier and committed feed up with the shared ledger: woken by each commit
/// signal (<see cref="Offer"/>, <see cref="Wake"/>) it applies the records the announcement carried
/// (<see cref="CarriedRecords"/>) or, when it carried none, did not continue the head or did not check out, reads the
/// records the leader committed since from the store; whatever the signal does, it also reads the store every
/// <see cref="ClusterOptions.FollowerPollInterval"/>. Idle while this instance holds the fence (it is the writer then).
/// </summary>
internal sealed partial class LedgerFollower
{
    private readonly LedgerWriter _writer;
    private readonly WriterFence _fence;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly byte[] _recordsKey;
    private readonly ConcurrentQueue<ReadOnlyMemory<byte>> _carried = new();
    private int _carriedCount;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _storeSeq;
    private long _behindSince;
    private long _rounds;
    private long _carriedApplied;

    // Announcements waiting to be applied; beyond this many the follower is behind anyway and reads the store.
    private const int MaxCarried = 64;

    public LedgerFollower(LedgerWriter writer, WriterFence fence, ClusterOptions options, byte[] recordsKey, TimeProvider time, ILogger logger)
    {
        _recordsKey = recordsKey;
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

    /// <summary>Records applied from announcements without reading the store, for tests and metrics.</summary>
    public long CarriedApplied => Interlocked.Read(ref _carriedApplied);

    /// <summary>
    /// Takes an announcement's <paramref name="records"/> (empty when it carried none) and wakes the loop. Runs on the
    /// signal's thread, so it only queues: checking and applying happen in the loop.
    /// </summary>
    public void Offer(ReadOnlyMemory<byte> records)
    {
        if (!records.IsEmpty && !_fence.IsHeld && Interlocked.Increment(ref _carriedCount) <= MaxCarried)
        {
            _carried.Enqueue(records);
        }
        else if (!records.IsEmpty)
        {
            Interlocked.Decrement(ref _carriedCount);
        }

        Wake();
    }

    /// <summary>Makes the loop read the store now (a commit was announced, or a forwarded append was acknowledged).</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>Follows until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            var poll = false;
            try
            {
                await wake.Task.WaitAsync(_options.FollowerPollInterval, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The poll: a lost signal delays by at most one interval.
                poll = true;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            if (_fence.IsHeld)
            {
                DropCarried();
                continue;
            }

            if (await ApplyCarriedAsync(cancellationToken) && !poll)
            {
                continue;
            }

            await FollowOnceAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Applies the queued announcements in order: true when there were some and each one was applied or already
    /// covered, false when there were none or one did not continue the head or did not check out (the store is read then).
    /// </summary>
    private async Task<bool> ApplyCarriedAsync(CancellationToken cancellationToken)
    {
        var any = false;
        while (_carried.TryDequeue(out var message))
        {
            Interlocked.Decrement(ref _carriedCount);
            any = true;
            var records = CarriedRecords.Decode(message.Span, _recordsKey);
            if (records is null)
            {
                Log.CarriedRefused(_logger, _writer.Head.Size);
                DropCarried();
                return false;
            }

            long applied;
            try
            {
                applied = await _writer.FollowRecordsAsync(records, cancellationToken);
            }
            catch (LedgerCorruptException ex)
            {
                Log.FollowFailed(_logger, ex, _writer.Head.Size);
                applied = -1;
            }

            if (applied < 0)
            {
                // A gap (an announcement lost or overtaken): the store has what is missing.
                DropCarried();
                return false;
            }

            Interlocked.Add(ref _carriedApplied, applied);
            Volatile.Write(ref _storeSeq, Math.Max(Volatile.Read(ref _storeSeq), records[^1].Seq));
        }

        if (any && Volatile.Read(ref _storeSeq) <= _writer.Head.Size)
        {
            Volatile.Write(ref _behindSince, 0);
        }

        return any;
    }

    private void DropCarried()
    {
        while (_carried.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _carriedCount);
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

        [LoggerMessage(EventId = 147, EventName = "CarriedRecordsRefused", Level = LogLevel.Warning, Message = "A commit announcement's records did not check out (wrong cluster key, or altered in transit) at seq {Seq}; reading the store instead")]
        public static partial void CarriedRefused(ILogger logger, long seq);

        [LoggerMessage(EventId = 146, EventName = "FollowFailed", Level = LogLevel.Warning, Message = "Following the shared ledger failed at seq {Seq}; will retry at the next poll")]
        public static partial void FollowFailed(ILogger logger, Exception exception, long seq);
    }
}
