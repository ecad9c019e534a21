namespace AuditStream.Ledger.Storage;

/// <summary>A signed checkpoint as kept by the store.</summary>
/// <param name="TreeSize">Number of events the checkpoint covers.</param>
/// <param name="RootHash">RFC 9162 root of the first <paramref name="TreeSize"/> events.</param>
/// <param name="SignedNote">The C2SP signed note (tlog-checkpoint body plus signature lines).</param>
/// <param name="CreatedAtMicros">When it was signed.</param>
public sealed record StoredCheckpoint(long TreeSize, byte[] RootHash, string SignedNote, long CreatedAtMicros);
