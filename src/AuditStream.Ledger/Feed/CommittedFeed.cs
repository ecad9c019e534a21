using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AuditStream.Events;
using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Feed;

/// <summary>
/// The seq-ordered stream of committed records that every consumer (stream hub, sinks, tail) reads: the most recent
/// <see cref="Capacity"/> records from a ring in memory, anything older from the store, so a consumer can start at
/// any seq and sees no gap and no duplicate (DESIGN.md §1).
/// </summary>
public sealed class CommittedFeed
{
    private const int StoreChunk = 4096;

    private readonly ILedgerStore _store;
    private readonly LedgerRecord?[] _ring;
    private long _lastSeq;
    private TaskCompletionSource _published = NewSignal();

    /// <summary>Creates a feed over <paramref name="store"/> keeping <paramref name="capacity"/> records in memory.</summary>
    public CommittedFeed(ILedgerStore store, int capacity)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _store = store;
        _ring = new LedgerRecord?[capacity];
    }

    /// <summary>How many recent records are served from memory.</summary>
    public int Capacity => _ring.Length;

    /// <summary>The last committed seq (0 when the ledger is empty).</summary>
    public long LastSeq => Volatile.Read(ref _lastSeq);

    /// <summary>Raised on the writer's thread after each commit with the new records; handlers must not block.</summary>
    public event Action<IReadOnlyList<LedgerRecord>>? Committed;

    internal void Initialize(long lastSeq) => Volatile.Write(ref _lastSeq, lastSeq);

    /// <summary>
    /// Makes committed records readable (<see cref="TryGet"/>, <see cref="LastSeq"/>, waiting readers). Memory only, so it
    /// runs before the producers are acknowledged: a producer that saw its receipt finds its record here. Whoever advances
    /// the feed (the local writer, or the follower of a shared ledger), the records must continue it seq by seq: a gap or
    /// a repeat is a broken invariant and nothing of the call is published.
    /// </summary>
    /// <exception cref="LedgerCorruptException">The records do not start at <see cref="LastSeq"/> + 1 or are not consecutive.</exception>
    internal void Advance(IReadOnlyList<LedgerRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        var expected = LastSeq + 1;
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].Seq != expected + i)
            {
                throw new LedgerCorruptException(
                    $"The committed feed ends at seq {expected - 1}; it was given seq {records[i].Seq} where {expected + i} must come next.");
            }
        }

        foreach (var record in records)
        {
            _ring[record.Seq % _ring.Length] = record;
        }

        // Slots before the seq: a reader that sees the new LastSeq finds the records in place.
        Volatile.Write(ref _lastSeq, records[^1].Seq);
        Interlocked.Exchange(ref _published, NewSignal()).TrySetResult();
    }

    /// <summary>Raises <see cref="Committed"/> for records already <see cref="Advance"/>d (after the producers were acknowledged).</summary>
    internal void Notify(IReadOnlyList<LedgerRecord> records) => Committed?.Invoke(records);

    /// <summary>The record at <paramref name="seq"/> if it is still in memory.</summary>
    public bool TryGet(long seq, [NotNullWhen(true)] out LedgerRecord? record)
    {
        record = seq >= 1 && seq <= LastSeq ? Volatile.Read(ref _ring[seq % _ring.Length]) : null;
        if (record is not null && record.Seq == seq)
        {
            return true;
        }

        record = null;
        return false;
    }

    /// <summary>Completes when the record at <paramref name="seq"/> has been committed.</summary>
    public async Task WaitForAsync(long seq, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Take the signal before reading LastSeq so a publish in between is not missed.
            var signal = Volatile.Read(ref _published);
            if (LastSeq >= seq)
            {
                return;
            }

            await signal.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Every committed record from <paramref name="fromSeq"/> on, in order, waiting for new ones at the end; ends only by cancellation.</summary>
    public async IAsyncEnumerable<LedgerRecord> ReadAsync(long fromSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = Math.Max(1, fromSeq);
        while (true)
        {
            var last = LastSeq;
            if (next > last)
            {
                await WaitForAsync(next, cancellationToken);
                continue;
            }

            if (TryGet(next, out var record))
            {
                yield return record;
                next++;
                continue;
            }

            // Older than the ring: catch up from the store in chunks, then look at the ring again.
            var to = Math.Min(last, next + StoreChunk - 1);
            await foreach (var stored in _store.ReadRangeAsync(next, to, cancellationToken))
            {
                if (stored.Seq != next)
                {
                    throw new LedgerCorruptException($"The store returned seq {stored.Seq} where {next} was expected.");
                }

                yield return stored;
                next++;
            }

            if (next <= to)
            {
                throw new LedgerCorruptException($"The store lacks seq {next}.");
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
