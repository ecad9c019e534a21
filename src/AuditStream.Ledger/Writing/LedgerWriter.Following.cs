using AuditStream.Events;
using AuditStream.Ledger.Storage;
using Microsoft.Extensions.Logging;

namespace AuditStream.Ledger.Writing;

/// <summary>
/// The writer of an instance that does not lead a shared ledger: its head, Merkle frontier and feed follow what the
/// leader committed, read from the store, so that proofs, tiles and the live stream work on every instance and a
/// follower that is elected continues from what it has read.
/// </summary>
public sealed partial class LedgerWriter
{
    // Records read per round trip while following; a follower far behind catches up in chunks.
    private const int FollowChunk = 4_096;

    private readonly SemaphoreSlim _headLock = new(1, 1);
    private readonly List<SubtreeHash> _followSubtrees = [];

    /// <summary>
    /// Extends head, Merkle frontier and feed with every record the store holds beyond the head (committed by another
    /// instance), in chunks, and returns the store's last seq. Never runs during a commit of this writer. A store that
    /// does not continue the head (behind it, or forked) is logged and left alone: the head stays where it was.
    /// </summary>
    internal async Task<long> FollowStoreAsync(CancellationToken cancellationToken)
    {
        var stored = await _store.ReadHeadAsync(cancellationToken);
        await _headLock.WaitAsync(cancellationToken);
        try
        {
            var head = _head;
            if (stored.LastSeq < head.Size)
            {
                Log.StoreBehindFollower(_logger, head.Size, stored.LastSeq);
                return stored.LastSeq;
            }

            var chunk = new List<LedgerRecord>(Math.Min(FollowChunk, (int)Math.Min(int.MaxValue, stored.LastSeq - head.Size)));
            while (head.Size < stored.LastSeq)
            {
                chunk.Clear();
                var to = Math.Min(stored.LastSeq, head.Size + FollowChunk);
                await foreach (var record in _store.ReadRangeAsync(head.Size + 1, to, cancellationToken))
                {
                    chunk.Add(record);
                }

                if (!Continues(head, chunk, to))
                {
                    Log.StoreForkedFromFollower(_logger, head.Size, stored.LastSeq);
                    return stored.LastSeq;
                }

                head = Extend(head, chunk);
                chunk = new List<LedgerRecord>(chunk.Count);
            }

            return stored.LastSeq;
        }
        finally
        {
            _headLock.Release();
        }
    }

    /// <summary>
    /// Extends head, Merkle frontier and feed with <paramref name="records"/> an announcement carried (consecutive seqs,
    /// hashes already checked against their bodies), skipping those the head already has. Returns how many were applied,
    /// or -1 when they do not continue the head (a gap, or another chain): the caller reads the store then.
    /// </summary>
    internal async Task<long> FollowRecordsAsync(IReadOnlyList<LedgerRecord> records, CancellationToken cancellationToken)
    {
        await _headLock.WaitAsync(cancellationToken);
        try
        {
            var head = _head;
            var skip = head.Size - records[0].Seq + 1;
            if (skip >= records.Count)
            {
                return 0;
            }

            if (skip < 0)
            {
                return -1;
            }

            var rest = skip == 0 ? records : records.Skip((int)skip).ToList();
            if (!Continues(head, rest, records[^1].Seq))
            {
                return -1;
            }

            Extend(head, rest);
            return rest.Count;
        }
        finally
        {
            _headLock.Release();
        }
    }

    private LedgerHead Extend(LedgerHead head, IReadOnlyList<LedgerRecord> records)
    {
        var merkle = _merkle!;
        foreach (var record in records)
        {
            _followSubtrees.Clear();
            merkle.Append(record.Hash, _followSubtrees);
        }

        var last = records[^1];
        head = new LedgerHead(last.Seq, last.Hash, merkle.Root(), Math.Max(last.TimestampMicros, head.LastTimestampMicros));
        Volatile.Write(ref _head, head);
        _feed.Advance(records);
        _feed.Notify(records);
        return head;
    }

    private static bool Continues(LedgerHead head, IReadOnlyList<LedgerRecord> chunk, long to)
    {
        if (chunk.Count == 0 || chunk[^1].Seq != to || !chunk[0].PrevHash.AsSpan().SequenceEqual(head.LastHash))
        {
            return false;
        }

        for (var i = 0; i < chunk.Count; i++)
        {
            if (chunk[i].Seq != head.Size + 1 + i)
            {
                return false;
            }
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 107, EventName = "StoreBehindFollower", Level = LogLevel.Critical, Message = "The shared store ends at seq {StoreSeq}, behind this instance's seq {WriterSeq}: acknowledged events are missing from it; the feed does not follow until an operator looks")]
        public static partial void StoreBehindFollower(ILogger logger, long writerSeq, long storeSeq);

        [LoggerMessage(EventId = 108, EventName = "StoreForkedFromFollower", Level = LogLevel.Critical, Message = "The shared store (at seq {StoreSeq}) does not continue this instance's chain at seq {WriterSeq}; the feed does not follow until an operator looks")]
        public static partial void StoreForkedFromFollower(ILogger logger, long writerSeq, long storeSeq);
    }
}
