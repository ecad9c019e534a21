namespace AuditStream.Privacy;

/// <summary>Subject keys where none exist: <c>pii</c> cannot be sealed, and every envelope reads as erased.</summary>
public sealed class NoSubjectKeys : ISubjectKeys
{
    /// <summary>The one instance.</summary>
    public static NoSubjectKeys Instance { get; } = new();

    private NoSubjectKeys()
    {
    }

    /// <inheritdoc />
    public long Generation => 0;

    /// <inheritdoc />
    public DataKey GetOrCreate(string tenantId, string subjectId) =>
        throw new InvalidOperationException("No subject key store is configured: pii cannot be encrypted.");

    /// <inheritdoc />
    public DataKey? Find(string keyId) => null;
}
