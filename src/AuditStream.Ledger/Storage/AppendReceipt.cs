namespace AuditStream.Ledger.Storage;

/// <summary>What a producer gets back for a committed event: where it is and what it hashes to.</summary>
/// <param name="Id">The event's idempotency key.</param>
/// <param name="Seq">Its ledger position.</param>
/// <param name="TimestampMicros">Commit time, microseconds since the Unix epoch.</param>
/// <param name="Hash">Its 32-byte hash.</param>
public sealed record AppendReceipt(Guid Id, long Seq, long TimestampMicros, byte[] Hash)
{
    /// <summary>Lower-case hex of <see cref="Hash"/>.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash);

    /// <summary>Commit time.</summary>
    public DateTimeOffset Timestamp => DateTimeOffset.UnixEpoch.AddTicks(TimestampMicros * 10);
}
