namespace AuditStream.Ledger.Privacy;

/// <summary>
/// Durable storage of wrapped data keys and of erasures (SQLite file beside the ledger, or a PostgreSQL table). A key row
/// is live while it holds its wrapped key; erasing clears the wrapped key in the same transaction that records the
/// erasure, so a crash leaves either the key or the erasure, never neither.
/// </summary>
public interface ISubjectKeyStore : IDisposable
{
    /// <summary>Creates the schema when missing.</summary>
    void Initialize();

    /// <summary>The subject's live key, or null.</summary>
    StoredSubjectKey? FindLive(string tenantId, string subjectId);

    /// <summary>The live key with id <paramref name="keyId"/>, or null (destroyed or unknown).</summary>
    StoredSubjectKey? Find(string keyId);

    /// <summary>Stores a new live key; false when the subject already has one (another caller won the race).</summary>
    bool TryInsert(StoredSubjectKey key, long createdMicros);

    /// <summary>Every live key, for rotation.</summary>
    IReadOnlyList<StoredSubjectKey> ReadLive();

    /// <summary>Replaces a live key's wrapping (rotation); false when the key was destroyed meanwhile.</summary>
    bool Rewrap(string keyId, string masterKeyId, byte[] wrapped);

    /// <summary>
    /// Destroys the live key <paramref name="keyId"/> and records <paramref name="erasure"/> (JSON) on its row, in one
    /// transaction, then removes what the store can of the old bytes; false when it was not live any more.
    /// </summary>
    bool Destroy(string keyId, string erasure);

    /// <summary>Records the seq of the erasure event on a destroyed key's row.</summary>
    void CompleteErasure(string keyId, long erasureSeq);

    /// <summary>The subject's most recent erasure, or null when it was never erased.</summary>
    StoredErasure? FindLatestErasure(string tenantId, string subjectId);
}

/// <summary>A live data key as stored: wrapped by the master key <paramref name="MasterKeyId"/>.</summary>
public sealed record StoredSubjectKey(string Id, string TenantId, string SubjectId, string MasterKeyId, byte[] Wrapped);

/// <summary>A destroyed key's erasure record; <paramref name="ErasureSeq"/> is null until the erasure event is committed.</summary>
public sealed record StoredErasure(string KeyId, string TenantId, string SubjectId, string Erasure, long? ErasureSeq);
