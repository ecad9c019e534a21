namespace AuditStream.Ledger.Storage;

/// <summary>Where the ledger ends: what the writer needs to continue the chain and the Merkle tree after a restart.</summary>
/// <param name="LastSeq">The last committed seq (0 when empty).</param>
/// <param name="LastHash">Hash of the last record (32 zero bytes when empty).</param>
/// <param name="LastTimestampMicros">Commit time of the last record (0 when empty).</param>
public sealed record StoreHead(long LastSeq, byte[] LastHash, long LastTimestampMicros);
