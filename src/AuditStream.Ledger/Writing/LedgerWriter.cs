using System.Buffers;
using System.Threading.Channels;
using AuditStream.Canonical;
using AuditStream.Events;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Ledger.Writing;

/// <summary>
/// The ledger's single writer (DESIGN.md §4): appends from every producer queue here; one loop commits whatever is
/// waiting in one transaction (group commit), extends the hash chain and the Merkle tree, and acknowledges each
/// producer only after the commit is durable. The queue is bounded: past <see cref="LedgerOptions.MaxQueuedEvents"/>
/// an append is refused as <see cref="AppendStatus.LedgerBusy"/> instead of growing memory.
/// </summary>
public sealed partial class LedgerWriter : IAsyncDisposable
{
    private readonly ILedgerStore _store;
    private readonly CommittedFeed _feed;
    private readonly LedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<AppendRequest> _queue;
    private readonly RecentIds _recentIds;
    private readonly CommitBatch _batch = new();
    private readonly List<AppendRequest> _requests = [];
    private readonly List<LedgerRecord> _published = [];
    private readonly List<EventKey> _idsToLookUp = [];
    private readonly Dictionary<EventKey, KnownId> _batchIds = [];
    private readonly Dictionary<EventKey, int> _requestIds = [];
    private readonly List<IdConflict> _conflicts = [];

    // Per event of the request being built, what FindConflicts learned: an earlier record with its id, or the index of
    // the earlier event of the same request that it repeats (-1: none), so the loop that writes looks nothing up again.
    private readonly List<KnownId?> _existing = [];
    private readonly List<int> _repeats = [];
    private static readonly IReadOnlyDictionary<EventKey, IdMatch> s_noHits = new Dictionary<EventKey, IdMatch>();
    private IReadOnlyDictionary<EventKey, IdMatch> _storeHits = s_noHits;
    private LedgerRecord[]? _notify;
    private long _queuedEvents;
    private LedgerHead _head = new(0, new byte[32], MerkleFrontier.EmptyRoot, 0);
    private MerkleFrontier? _merkle;
    private Task? _loop;
    private AppendRequest? _carried;
    private byte[] _scratch = new byte[64 * 1024];
    private readonly LedgerMetrics? _metrics;

    // What the readiness probe reads (WriterStatus); written by the loop only.
    private long _commitStartedAt;
    private long _lastCommitUtcTicks;
    private long _lastFailureUtcTicks;
    private volatile string? _lastFailure;

    /// <summary>Creates a writer; call <see cref="StartAsync"/> before appending. <paramref name="metrics"/>, when given, records each commit.</summary>
    public LedgerWriter(ILedgerStore store, CommittedFeed feed, LedgerOptions options, TimeProvider? timeProvider = null, ILogger<LedgerWriter>? logger = null, LedgerMetrics? metrics = null)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _feed = feed;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<LedgerWriter>.Instance;
        _recentIds = new RecentIds(options.RecentIdCacheSize);
        _queue = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    }

    /// <summary>The committed end of the ledger; replaced (never mutated) after each commit.</summary>
    public LedgerHead Head => Volatile.Read(ref _head);

    /// <summary>Events accepted but not yet committed.</summary>
    public long QueuedEvents => Interlocked.Read(ref _queuedEvents);

    /// <summary>Whether the loop runs, how long the commit in progress has taken, and how the last commits ended (for health probes).</summary>
    public WriterStatus Status
    {
        get
        {
            var started = Volatile.Read(ref _commitStartedAt);
            var lastCommit = Volatile.Read(ref _lastCommitUtcTicks);
            var lastFailure = Volatile.Read(ref _lastFailureUtcTicks);
            return new WriterStatus(
                Running: _loop is { IsCompleted: false },
                CommitRunningFor: started == 0 ? null : _time.GetElapsedTime(started),
                LastCommitAt: lastCommit == 0 ? null : new DateTimeOffset(lastCommit, TimeSpan.Zero),
                LastFailureAt: lastFailure == 0 ? null : new DateTimeOffset(lastFailure, TimeSpan.Zero),
                LastFailure: _lastFailure);
        }
    }

    /// <summary>Raised after each commit with the new head (on the writer's thread; handlers must not block).</summary>
    public event Action<LedgerHead>? HeadAdvanced;

    /// <summary>Loads the ledger's end from the store and starts the writer loop.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The writer is already started.");
        }

        var stored = await _store.InitializeAsync(cancellationToken);
        _merkle = await MerkleFrontier.RestoreAsync(_store, stored.LastSeq, cancellationToken);
        _head = new LedgerHead(stored.LastSeq, stored.LastHash, _merkle.Root(), stored.LastTimestampMicros);
        _feed.Initialize(stored.LastSeq);
        Log.Started(_logger, stored.LastSeq);
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>
    /// Appends <paramref name="events"/> atomically (one transaction) and completes once they are durable.
    /// Never waits for room: a full queue gives <see cref="AppendStatus.LedgerBusy"/> at once.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return ValueTask.FromResult(new AppendResult(AppendStatus.Committed, []));
        }

        var queued = Interlocked.Add(ref _queuedEvents, events.Count);
        if (queued > _options.MaxQueuedEvents && queued != events.Count)
        {
            // An oversized single request may still go through an empty queue; anything else waits its turn outside.
            Interlocked.Add(ref _queuedEvents, -events.Count);
            return ValueTask.FromResult(AppendResult.Busy);
        }

        var request = new AppendRequest(events);
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Add(ref _queuedEvents, -events.Count);
            return ValueTask.FromResult(AppendResult.Closed);
        }

        return new ValueTask<AppendResult>(cancellationToken.CanBeCanceled
            ? request.Completion.Task.WaitAsync(cancellationToken)
            : request.Completion.Task);
    }

    /// <summary>Appends one event; see <see cref="AppendAsync(IReadOnlyList{PreparedEvent}, CancellationToken)"/>.</summary>
    public ValueTask<AppendResult> AppendAsync(PreparedEvent prepared, CancellationToken cancellationToken = default) =>
        AppendAsync([prepared], cancellationToken);

    /// <summary>Stops accepting appends, commits everything already queued and waits for the loop to end.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (_carried is not null || await reader.WaitToReadAsync())
        {
            CollectBatch(reader);
            var events = 0;
            foreach (var request in _requests)
            {
                events += request.Events.Count;
            }

            AppendResult[]? results = null;
            Exception? failure = null;
            var started = _time.GetTimestamp();
            Volatile.Write(ref _commitStartedAt, started == 0 ? 1 : started);

            // Head and Merkle frontier are the writer's or the follower's (Following.cs), never both at once.
            await _headLock.WaitAsync();
            try
            {
                results = await CommitBatchAsync();
                _metrics?.Committed(events, _batch.Records.Count, _time.GetElapsedTime(started));
                Volatile.Write(ref _lastCommitUtcTicks, _time.GetUtcNow().UtcTicks);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.CommitFailed(_logger, ex, _requests.Count);
                failure = ex;
                _metrics?.CommitFailed();
                _lastFailure = $"{ex.GetType().Name}: {ex.Message}";
                Volatile.Write(ref _lastFailureUtcTicks, _time.GetUtcNow().UtcTicks);
            }
            finally
            {
                _headLock.Release();
                Volatile.Write(ref _commitStartedAt, 0);
            }

            // Room in the queue first, so a producer that sees its acknowledgement also sees the queue drained.
            Interlocked.Add(ref _queuedEvents, -events);
            for (var r = 0; r < _requests.Count; r++)
            {
                if (results is not null)
                {
                    _requests[r].Completion.TrySetResult(results[r]);
                }
                else
                {
                    _requests[r].Completion.TrySetException(new LedgerUnavailableException("The ledger could not commit the events; nothing was written.", failure!));
                }
            }

            _requests.Clear();
            if (results is not null)
            {
                // Producers first: the batch is durable, so nothing a listener does may turn it into a failed append.
                NotifyCommitted();
            }
        }

        // Completed: refuse anything that raced in after TryComplete (none can), and finish what is left.
        while (reader.TryRead(out var late))
        {
            late.Completion.TrySetResult(AppendResult.Closed);
        }
    }

    private void CollectBatch(ChannelReader<AppendRequest> reader)
    {
        // Group commit: everything waiting now goes into this transaction, up to MaxBatchEvents; a request is never split.
        var events = 0;
        if (_carried is not null)
        {
            _requests.Add(_carried);
            events = _carried.Events.Count;
            _carried = null;
        }

        while (events < _options.MaxBatchEvents && reader.TryRead(out var request))
        {
            if (events > 0 && events + request.Events.Count > _options.MaxBatchEvents)
            {
                _carried = request;
                break;
            }

            _requests.Add(request);
            events += request.Events.Count;
        }
    }

    private async Task<AppendResult[]> CommitBatchAsync(bool mayRetry = true)
    {
        await LookUpProducerIdsAsync();

        var head = _head;
        var merkle = _merkle!;
        var rollback = merkle.Save();
        var seq = head.Size;
        var prevHash = head.LastHash;

        // One clock read per batch; commit times never go backwards, so a time range maps to a seq range.
        var timestamp = Math.Max(Timestamps.ToMicros(_time.GetUtcNow()), head.LastTimestampMicros);
        var results = new AppendResult[_requests.Count];
        _batch.Clear();
        _batchIds.Clear();
        _published.Clear();
        for (var r = 0; r < _requests.Count; r++)
        {
            var events = _requests[r].Events;
            if (FindConflicts(events) is { } conflicts)
            {
                results[r] = new AppendResult(AppendStatus.IdConflict, []) { Conflicts = conflicts };
                continue;
            }

            var outcome = new AppendedEvent[events.Count];
            results[r] = new AppendResult(AppendStatus.Committed, outcome);
            for (var i = 0; i < events.Count; i++)
            {
                if (_existing[i] is { } existing)
                {
                    outcome[i] = new AppendedEvent(existing.Receipt, WasDuplicate: true);
                    continue;
                }

                if (_repeats[i] is >= 0 and var first)
                {
                    outcome[i] = outcome[first] with { WasDuplicate = true };
                    continue;
                }

                var prepared = events[i];

                seq++;
                var body = WriteBody(prepared, prevHash, seq, timestamp);
                var hash = new byte[32];
                ChainStep.ComputeHash(prevHash, body, hash);
                var record = new LedgerRecord(seq, timestamp, prevHash, hash, body, prepared.Event);
                merkle.Append(hash, _batch.Subtrees);
                _batch.Records.Add(new PendingRecord(record, prepared.Id, prepared.Event));
                _published.Add(record);
                var receipt = new AppendReceipt(prepared.Id, seq, timestamp, hash);
                if (prepared.IdSuppliedByProducer)
                {
                    // Only a producer's own ids can come back; a generated one resent later is found in the store.
                    _batchIds[EventKey.For(prepared.Event.TenantId, prepared.Id)] = new KnownId(receipt, EventContent.Of(prepared));
                }

                outcome[i] = new AppendedEvent(receipt, WasDuplicate: false);
                prevHash = hash;
            }
        }

        try
        {
            if (_batch.Records.Count > 0)
            {
                await _store.CommitAsync(_batch, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            switch (await RecoverAsync(ex))
            {
                case Recovery.Committed:
                    // The answer was lost, not the commit: the batch is durable exactly as built.
                    break;
                case Recovery.Reloaded when mayRetry && ex is not LedgerFencedException:
                    // Another writer moved the ledger on: this batch wrote nothing; build it again on the new head.
                    return await CommitBatchAsync(mayRetry: false);
                case Recovery.Reloaded:
                    // Fenced: another instance leads. The head and the tree now follow the store; the batch is refused.
                    throw;
                default:
                    merkle.Restore(rollback);
                    throw;
            }
        }

        if (_batch.Records.Count > 0)
        {
            if (_recentIds.Enabled)
            {
                foreach (var (key, known) in _batchIds)
                {
                    _recentIds.Add(key, known);
                }
            }

            Volatile.Write(ref _head, new LedgerHead(seq, prevHash, merkle.Root(), timestamp));
            _notify = _published.ToArray();
            _feed.Advance(_notify);
        }

        return results;
    }

    /// <summary>
    /// The events of one request whose id is already taken in their tenant by other content: committed, earlier in this
    /// batch, or earlier in the request itself. Null when there are none, so the request can be written; either way
    /// <see cref="_existing"/> and <see cref="_repeats"/> say, per event, which earlier record or event it duplicates.
    /// </summary>
    private IdConflict[]? FindConflicts(IReadOnlyList<PreparedEvent> events)
    {
        _conflicts.Clear();
        _requestIds.Clear();
        _existing.Clear();
        _repeats.Clear();
        for (var i = 0; i < events.Count; i++)
        {
            var prepared = events[i];
            KnownId? existing = null;
            var repeats = -1;
            if (prepared.IdSuppliedByProducer)
            {
                var key = EventKey.For(prepared.Event.TenantId, prepared.Id);
                existing = FindExisting(key);
                if (existing is { } known)
                {
                    if (known.Content != EventContent.Of(prepared))
                    {
                        // An event of this batch may yet fail to commit: name its seq only once it is durable.
                        _conflicts.Add(new IdConflict(i, _batchIds.ContainsKey(key) ? null : known.Receipt));
                    }
                }
                else if (events.Count > 1)
                {
                    // The first event with a new id is written; a later one in the same request must match it (fingerprints
                    // only on such a repeat: most requests have none).
                    if (_requestIds.TryGetValue(key, out var first))
                    {
                        repeats = first;
                        if (EventContent.Of(events[first]) != EventContent.Of(prepared))
                        {
                            _conflicts.Add(new IdConflict(i, Existing: null));
                        }
                    }
                    else
                    {
                        _requestIds.Add(key, i);
                    }
                }
            }

            _existing.Add(existing);
            _repeats.Add(repeats);
        }

        return _conflicts.Count == 0 ? null : [.. _conflicts];
    }

    private KnownId? FindExisting(EventKey key) =>
        _batchIds.TryGetValue(key, out var inBatch) ? inBatch
        : _storeHits.TryGetValue(key, out var stored) ? new KnownId(stored.Receipt, EventContent.OfStoredBody(stored.Body))
        : _recentIds.TryGet(key);

    private enum Recovery
    {
        /// <summary>The store is where the writer was: nothing of the batch was written (or the store cannot tell).</summary>
        Unchanged,

        /// <summary>The store ends with exactly this batch: it was committed and only the answer failed.</summary>
        Committed,

        /// <summary>The store ends elsewhere (another writer committed): head, Merkle frontier and feed were reloaded from it.</summary>
        Reloaded,
    }

    /// <summary>
    /// After a failed commit, asks the store where the ledger ends, so a lost answer is not reported as "nothing was
    /// written" and a ledger another writer extended is followed instead of failing every later commit.
    /// </summary>
    private async Task<Recovery> RecoverAsync(Exception failure)
    {
        StoreHead stored;
        try
        {
            stored = await _store.ReadHeadAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.RecoveryFailed(_logger, ex);
            return Recovery.Unchanged;
        }

        var head = _head;
        if (stored.LastSeq == head.Size && stored.LastHash.AsSpan().SequenceEqual(head.LastHash))
        {
            return Recovery.Unchanged;
        }

        if (_batch.Records.Count > 0 && _batch.Records[^1].Record is var last
            && stored.LastSeq == last.Seq && stored.LastHash.AsSpan().SequenceEqual(last.Hash))
        {
            Log.CommitAnswerLost(_logger, failure, last.Seq);
            return Recovery.Committed;
        }

        // Someone else committed: continue the chain and the tree from the store, and give live readers its records —
        // but only if the store still holds what this writer acknowledged. Behind it, or forked from it below its head
        // (a restored backup, a lagging replica promoted), continuing would hand out acknowledged seqs again: keep
        // failing, visibly, until an operator looks.
        var others = new List<LedgerRecord>();
        if (stored.LastSeq > head.Size)
        {
            await foreach (var record in _store.ReadRangeAsync(head.Size + 1, stored.LastSeq, CancellationToken.None))
            {
                others.Add(record);
            }
        }

        if (others.Count == 0 || !others[0].PrevHash.AsSpan().SequenceEqual(head.LastHash))
        {
            Log.StoreBehind(_logger, failure, head.Size, stored.LastSeq);
            return Recovery.Unchanged;
        }

        var merkle = await MerkleFrontier.RestoreAsync(_store, stored.LastSeq, CancellationToken.None);

        _merkle = merkle;
        Volatile.Write(ref _head, new LedgerHead(stored.LastSeq, stored.LastHash, merkle.Root(), Math.Max(stored.LastTimestampMicros, head.LastTimestampMicros)));
        Log.Reloaded(_logger, failure, head.Size, stored.LastSeq);
        _feed.Advance(others);
        _feed.Notify(others);
        return Recovery.Reloaded;
    }

    private void NotifyCommitted()
    {
        if (_notify is not { } records)
        {
            return;
        }

        _notify = null;
        var head = _head;
        try
        {
            _feed.Notify(records);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.NotifyFailed(_logger, ex, head.Size);
        }

        try
        {
            HeadAdvanced?.Invoke(head);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.NotifyFailed(_logger, ex, head.Size);
        }
    }

    private async Task LookUpProducerIdsAsync()
    {
        // Ids generated here are new by construction; producer ids not remembered in memory are looked up in one query per batch.
        _idsToLookUp.Clear();
        _storeHits = s_noHits;
        foreach (var request in _requests)
        {
            foreach (var prepared in request.Events)
            {
                if (prepared.IdSuppliedByProducer)
                {
                    var key = EventKey.For(prepared.Event.TenantId, prepared.Id);
                    if (_recentIds.TryGet(key) is null)
                    {
                        _idsToLookUp.Add(key);
                    }
                }
            }
        }

        if (_idsToLookUp.Count == 0)
        {
            return;
        }

        _storeHits = await _store.FindByIdsAsync(_idsToLookUp, CancellationToken.None);
    }

    private byte[] WriteBody(PreparedEvent prepared, byte[] prevHash, long seq, long timestamp)
    {
        if (_scratch.Length < prepared.MaxBodyLength)
        {
            _scratch = new byte[Math.Max(prepared.MaxBodyLength, _scratch.Length * 2)];
        }

        var length = ChainStep.WriteBody(prepared, prevHash, seq, timestamp, _scratch);
        return _scratch.AsSpan(0, length).ToArray();
    }

    private sealed class AppendRequest(IReadOnlyList<PreparedEvent> events)
    {
        public IReadOnlyList<PreparedEvent> Events { get; } = events;

        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, EventName = "WriterStarted", Level = LogLevel.Information, Message = "Ledger writer started at seq {LastSeq}")]
        public static partial void Started(ILogger logger, long lastSeq);

        [LoggerMessage(EventId = 101, EventName = "CommitFailed", Level = LogLevel.Error, Message = "Ledger commit of {Requests} requests failed; they were refused")]
        public static partial void CommitFailed(ILogger logger, Exception exception, int requests);

        [LoggerMessage(EventId = 103, EventName = "CommitAnswerLost", Level = LogLevel.Warning, Message = "A commit up to seq {Seq} failed to answer but is in the store; it counts as committed")]
        public static partial void CommitAnswerLost(ILogger logger, Exception exception, long seq);

        [LoggerMessage(EventId = 104, EventName = "LedgerReloaded", Level = LogLevel.Warning, Message = "The store ends at seq {StoreSeq}, not {WriterSeq}: another writer committed; the writer continues from the store")]
        public static partial void Reloaded(ILogger logger, Exception exception, long writerSeq, long storeSeq);

        [LoggerMessage(EventId = 106, EventName = "StoreBehindWriter", Level = LogLevel.Critical, Message = "The store ends at seq {StoreSeq} and does not continue the writer's seq {WriterSeq}: acknowledged events are missing from it; commits stay refused")]
        public static partial void StoreBehind(ILogger logger, Exception exception, long writerSeq, long storeSeq);

        [LoggerMessage(EventId = 105, EventName = "RecoveryFailed", Level = LogLevel.Error, Message = "After a failed commit the store could not say where the ledger ends")]
        public static partial void RecoveryFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 102, EventName = "NotifyFailed", Level = LogLevel.Critical, Message = "A listener of the commit up to seq {Seq} failed; the events are committed and acknowledged")]
        public static partial void NotifyFailed(ILogger logger, Exception exception, long seq);
    }
}
