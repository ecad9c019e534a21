namespace AuditStream.Privacy;

/// <summary>
/// The per-subject data keys <c>pii</c> is sealed and opened with (DESIGN.md §4, crypto-shredding): one live key per
/// (tenant, subject); erasing a subject destroys its key, after which <see cref="Find"/> returns null for its id forever.
/// </summary>
public interface ISubjectKeys
{
    /// <summary>The subject's live data key, created (random, stored wrapped by the master key) when it has none.</summary>
    DataKey GetOrCreate(string tenantId, string subjectId);

    /// <summary>The data key with id <paramref name="keyId"/>, or null when it was destroyed (erased) or never existed.</summary>
    DataKey? Find(string keyId);

    /// <summary>Increases whenever a key is destroyed, so views cached from a key can tell they are stale.</summary>
    long Generation { get; }
}
