namespace AuditStream.Client;

/// <summary>Proof of a committed event: where it sits in the ledger and the hash the ledger chained it with.</summary>
/// <param name="Id">The event's idempotency key.</param>
/// <param name="Seq">Its ledger position, from 1.</param>
/// <param name="Hash">Its hex SHA-256 hash in the chain.</param>
/// <param name="Timestamp">The server's commit time.</param>
/// <param name="Duplicate">True when the id was already in the ledger and this is the original record's receipt.</param>
public sealed record AuditReceipt(Guid Id, long Seq, string Hash, DateTimeOffset Timestamp, bool Duplicate);
