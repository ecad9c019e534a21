using System.Text.Json.Serialization;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// What an erasure decided before it destroyed the key, stored with the destroyed key so that a re-POST after a crash
/// appends the very same <c>privacy.erasure.completed</c> event (same id and content: the ledger's idempotency makes it one).
/// </summary>
internal sealed record ErasureRecord(
    [property: JsonPropertyName("event_id")] Guid EventId,
    [property: JsonPropertyName("data_key_id")] string DataKeyId,
    [property: JsonPropertyName("erased_at")] DateTimeOffset ErasedAt,
    [property: JsonPropertyName("actor_id")] string? ActorId,
    [property: JsonPropertyName("affected_seqs")] long[][] AffectedSeqs,
    [property: JsonPropertyName("affected_events")] long AffectedEvents);

/// <summary>The signed answer to an erasure: the certificate JSON and the same JSON as a c2sp.org/signed-note by the ledger key.</summary>
/// <param name="Certificate">One line of RFC 8785 JSON: format, subject, tenant, time, affected seqs, the erasure event and the checkpoint at erasure.</param>
/// <param name="SignedNote">The certificate line signed with the ledger's Ed25519 checkpoint key (verify with <c>/api/v1/ledger/public-key</c>).</param>
/// <param name="Repeated">True when the subject was already erased and this re-issues its certificate.</param>
public sealed record ErasureCertificate(string Certificate, string SignedNote, bool Repeated);

[JsonSerializable(typeof(ErasureRecord))]
internal sealed partial class ErasureJsonContext : JsonSerializerContext;
