using AuditStream.Events;

namespace AuditStream.Ledger.Storage;

/// <summary>What the writer commits in one transaction: consecutive records and the Merkle subtrees they completed.</summary>
public sealed class CommitBatch
{
    /// <summary>Records in seq order.</summary>
    public List<PendingRecord> Records { get; } = [];

    /// <summary>Perfect subtrees of height 8·level completed by these records.</summary>
    public List<SubtreeHash> Subtrees { get; } = [];

    internal void Clear()
    {
        Records.Clear();
        Subtrees.Clear();
    }
}

/// <summary>One record about to be committed, with the columns the store indexes.</summary>
/// <param name="Record">The record (seq, timestamp, hashes, canonical body).</param>
/// <param name="Id">Idempotency key.</param>
/// <param name="Event">The validated event, for the indexed columns.</param>
public readonly record struct PendingRecord(LedgerRecord Record, Guid Id, AuditEvent Event);

/// <summary>A persisted perfect Merkle subtree: MTH of leaves [index·256^level, (index+1)·256^level).</summary>
/// <param name="Level">Height divided by 8.</param>
/// <param name="Index">Position among the subtrees of that level.</param>
/// <param name="Hash">Its 32-byte hash.</param>
public readonly record struct SubtreeHash(int Level, long Index, byte[] Hash);
