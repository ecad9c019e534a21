using AuditStream.Events;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Postgres;
using AuditStream.Ledger.Writing;
using Microsoft.Extensions.Logging;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// This instance's place among the instances sharing one PostgreSQL ledger: the leader election (one writer, fenced),
/// the follower that keeps the feed up with the ledger while another instance writes, and the commit signal that
/// announces this instance's commits and wakes the follower on everyone else's.
/// </summary>
public sealed class LedgerCluster : IAsyncDisposable
{
    private readonly PostgresLedgerStore _store;
    private readonly LedgerWriter _writer;
    private readonly ICommitSignal? _signal;
    private readonly CommittedFeed _feed;
    private readonly byte[] _recordsKey;
    private readonly LeaderElection _election;
    private readonly LedgerFollower _follower;
    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _subscription;
    private Task? _electing;
    private Task? _following;
    private long _announced;
    private int _disposed;

    internal LedgerCluster(PostgresLedgerStore store, LedgerWriter writer, CommittedFeed feed, WriterFence fence, ClusterOptions options, ICommitSignal? signal, byte[] recordsKey, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _store = store;
        _writer = writer;
        _feed = feed;
        _signal = signal;
        _recordsKey = recordsKey;
        Fence = fence;
        Options = options;
        var logger = loggerFactory.CreateLogger<LedgerCluster>();
        _follower = new LedgerFollower(writer, fence, options, recordsKey, time, logger);
        _election = new LeaderElection(store.DataSource, fence, options, time, logger, CatchUpAsync);
        _election.RoleChanged += (leading, term) => RoleChanged?.Invoke(leading, term);
    }

    /// <summary>The term this instance commits under (0: it follows).</summary>
    public WriterFence Fence { get; }

    /// <summary>The options it runs with.</summary>
    public ClusterOptions Options { get; }

    /// <summary>True while this instance is the ledger's writer.</summary>
    public bool IsLeader => Fence.IsHeld;

    /// <summary>This instance's id in the leader row (<see cref="ClusterOptions.InstanceId"/>).</summary>
    public string InstanceId => Options.InstanceId;

    /// <summary>Seqs committed by the leader that this instance's feed has not reached yet (0 on the leader).</summary>
    public long LagSeqs => _follower.LagSeqs;

    /// <summary>How long this instance's feed has been behind the ledger.</summary>
    public TimeSpan LagTime => _follower.LagTime;

    /// <summary>Raised when this instance starts (true) or stops (false) leading, with the term.</summary>
    public event Action<bool, long>? RoleChanged;

    /// <summary>Who leads now, as the leader row says.</summary>
    public Task<LeaderInfo> ReadLeaderAsync(CancellationToken cancellationToken) => LeaderRow.ReadAsync(_store.DataSource, cancellationToken);

    /// <summary>Records this instance applied from commit announcements without reading the store (0 on a leader that never followed).</summary>
    public long CarriedRecordsApplied => _follower.CarriedApplied;

    /// <summary>Rounds in which this instance's follower read the store (a poll, or an announcement it could not apply).</summary>
    public long StoreReads => _follower.Rounds;

    /// <summary>Makes the follower read the store now (after a forwarded append was acknowledged, so this instance's feed shows it soon).</summary>
    public void WakeFollower() => _follower.Wake();

    /// <summary>Subscribes to the commit signal, runs one election round (an idle ledger gets its writer at once) and starts the loops.</summary>
    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = _signal?.Subscribe((_, _, records) => _follower.Offer(records));
        _writer.HeadAdvanced += Announce;
        await _election.StepAsync(cancellationToken);
        if (!IsLeader)
        {
            await _follower.FollowOnceAsync(cancellationToken);
        }

        _electing = Task.Run(() => _election.RunAsync(_stop.Token), CancellationToken.None);
        _following = Task.Run(() => _follower.RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops electing and following; the writer must have stopped first. Releases the lease so another instance takes over at once.</summary>
    internal async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _writer.HeadAdvanced -= Announce;
        _subscription?.Dispose();
        await _stop.CancelAsync();
        foreach (var task in new[] { _electing, _following })
        {
            if (task is not null)
            {
                await task;
            }
        }

        await _election.ReleaseAsync(CancellationToken.None);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task CatchUpAsync(long term, CancellationToken cancellationToken)
    {
        // Everything committed under earlier terms is in the store now; the new leader continues from it.
        await _writer.FollowStoreAsync(cancellationToken);
        Volatile.Write(ref _announced, _writer.Head.Size);
    }

    private void Announce(LedgerHead head)
    {
        var from = Volatile.Read(ref _announced) + 1;
        Volatile.Write(ref _announced, head.Size);
        if (_signal is not null && head.Size >= from)
        {
            // Best effort by contract: it neither throws for an unreachable backplane nor holds the writer up.
            var records = Carried(from, head.Size);
            var publishing = records is null
                ? _signal.PublishAsync(from, head.Size, CancellationToken.None)
                : _signal.PublishAsync(from, head.Size, records, CancellationToken.None);
            if (!publishing.IsCompleted)
            {
                publishing.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
    }

    /// <summary>The records <paramref name="from"/>..<paramref name="to"/> as the announcement carries them, or null (too large, or no longer in the feed).</summary>
    private byte[]? Carried(long from, long to)
    {
        var count = to - from + 1;
        if (Options.MaxCarriedBytes == 0 || count > Options.MaxCarriedBytes / 100)
        {
            return null;
        }

        var records = new LedgerRecord[count];
        for (var seq = from; seq <= to; seq++)
        {
            if (!_feed.TryGet(seq, out var record))
            {
                return null;
            }

            records[seq - from] = record;
        }

        return CarriedRecords.Encode(records, _recordsKey, Options.MaxCarriedBytes);
    }
}
