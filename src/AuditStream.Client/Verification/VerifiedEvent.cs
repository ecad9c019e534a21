using System.Text.Json;

namespace AuditStream.Client.Verification;

/// <summary>An event read with its proof (<c>GET /api/v1/events/{seq}?proof=true</c>) and what the client could check of it.</summary>
/// <param name="Event">The event as the server answered it (masked as the token's role sees it).</param>
/// <param name="Inclusion">Whether the event's <c>hash</c> is in the log a checkpoint signed by the pinned key describes.</param>
/// <param name="ContentVerified">
/// True when the event's own content hashes to its <c>hash</c> (RFC 8785 canonical form, <c>prev_hash</c> included), so the
/// fields shown are the ones committed; false when they cannot be (<c>pii</c> masked for this role) or do not.
/// </param>
/// <param name="ContentFailure">Why <paramref name="ContentVerified"/> is false.</param>
public sealed record VerifiedEvent(JsonElement Event, InclusionVerification Inclusion, bool ContentVerified, string? ContentFailure)
{
    /// <summary>True when both the inclusion and the content verified.</summary>
    public bool IsValid => Inclusion.IsValid && ContentVerified;
}
