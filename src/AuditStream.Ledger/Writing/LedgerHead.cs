namespace AuditStream.Ledger.Writing;

/// <summary>An immutable snapshot of the committed ledger's end: size, last hash and Merkle root.</summary>
/// <param name="Size">Number of committed events (= last seq).</param>
/// <param name="LastHash">Hash of the last event (32 zero bytes when empty).</param>
/// <param name="RootHash">RFC 9162 root over the first <paramref name="Size"/> event hashes.</param>
/// <param name="LastTimestampMicros">Commit time of the last event.</param>
public sealed record LedgerHead(long Size, byte[] LastHash, byte[] RootHash, long LastTimestampMicros);
