using AuditStream.Filters;
using AuditStream.Ledger.Feed;
using AuditStream.Security;

namespace AuditStream.Streaming.Clients;

/// <summary>What an authenticated connection asked for, checked by the server before the WebSocket upgrade.</summary>
/// <param name="Scope">The caller's role and tenant.</param>
/// <param name="Feed">The committed feed the client reads.</param>
/// <param name="Filter">The initial filter, already validated.</param>
/// <param name="SinceSeq">Replay events after this seq before going live, or null to start live at the current head.</param>
/// <param name="Subject">The token's subject, for the stream's own audit trail.</param>
/// <param name="RemoteAddress">The client's IP address, for the stream's own audit trail.</param>
/// <param name="LedgerId">The id of the ledger <paramref name="Feed"/> belongs to, sent in <c>audit.connection.established</c> and the 1001 close hint.</param>
/// <param name="ResumeLedgerId">
/// The ledger the client's <paramref name="SinceSeq"/> counts in (<c>?ledger_id=</c>), or null when it did not say; another
/// ledger than <paramref name="LedgerId"/> is refused with <c>audit.error</c> <c>ledger_mismatch</c> and no events.
/// </param>
/// <param name="ProofScope">
/// The caller's scope under the <c>proof</c> attribute rules, or null when they refuse it proofs altogether: a
/// proof-carrying client (<see cref="StreamFilter.Proofs"/>) gets proofs only for the events this scope also shows.
/// </param>
public sealed record ClientRequest(
    AccessScope Scope, CommittedFeed Feed, StreamFilter Filter, long? SinceSeq, string? Subject = null, string? RemoteAddress = null, string? LedgerId = null, string? ResumeLedgerId = null,
    AccessScope? ProofScope = null);
