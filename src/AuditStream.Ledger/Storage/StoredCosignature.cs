namespace AuditStream.Ledger.Storage;

/// <summary>A witness's cosignature of a kept checkpoint (c2sp.org/tlog-cosignature), as the store keeps it.</summary>
/// <param name="TreeSize">The tree size of the checkpoint it cosigns.</param>
/// <param name="Witness">The witness's cosigner name.</param>
/// <param name="Line">The signature line (<c>— name base64(keyid ‖ timestamp ‖ signature)</c>, no newline), verified before it was kept.</param>
public sealed record StoredCosignature(long TreeSize, string Witness, string Line);

/// <summary>A kept checkpoint with the cosignatures kept for it, in witness-name order.</summary>
public sealed record CosignedCheckpoint(StoredCheckpoint Checkpoint, IReadOnlyList<StoredCosignature> Cosignatures);
