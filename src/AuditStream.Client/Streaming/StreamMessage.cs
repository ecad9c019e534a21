using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Client.Streaming;

/// <summary>One message of the live stream (DESIGN.md §5), or a notice from the client itself that it is reconnecting.</summary>
/// <param name="Type">The wire <c>type</c>, e.g. <c>audit.event.published</c>.</param>
public abstract record StreamMessage(string Type);

/// <summary><c>audit.connection.established</c>: the first message of every connection (also after a reconnect).</summary>
/// <param name="ClientId">The server's id for this connection.</param>
/// <param name="Role">The token's role.</param>
/// <param name="ServerTime">The server's clock.</param>
/// <param name="LastSeq">The ledger's last seq at connection; a live-only subscription continues after it.</param>
/// <param name="Filters">The filters in force.</param>
/// <param name="Limits">The server's per-client limits.</param>
/// <param name="LedgerId">
/// The id of the ledger the seqs count in (null from a server before ledger ids): keep it with a saved seq and resume with
/// both, so that a resume on another ledger is refused instead of mixing two logs.
/// </param>
public sealed record ConnectionEstablishedMessage(string ClientId, string Role, DateTimeOffset ServerTime, long LastSeq, JsonElement Filters, JsonElement Limits, string? LedgerId = null)
    : StreamMessage("audit.connection.established")
{
    /// <summary>True when the server sends proofs on this connection (<c>proofs: true</c>).</summary>
    public bool Proofs { get; init; }
}

/// <summary><c>audit.event.published</c>: a committed event that matches the filters; seqs arrive in increasing order, each once.</summary>
/// <param name="Seq">The event's seq.</param>
/// <param name="Event">The event (masked as the token's role sees it).</param>
/// <param name="Proof">On a proof-carrying stream, the inclusion proof against the last checkpoint sent, when that covers the event.</param>
public sealed record EventMessage(long Seq, AuditEvent Event, StreamProof? Proof = null) : StreamMessage("audit.event.published")
{
    /// <summary>The <c>audit_event</c> object as sent, for the content check of a verified stream.</summary>
    internal JsonElement EventJson { get; init; }
}

/// <summary>An RFC 9162 inclusion proof on the stream: <c>{"leaf_index", "tree_size", "hashes": [base64…]}</c>.</summary>
public sealed record StreamProof(long LeafIndex, long TreeSize, IReadOnlyList<string> Hashes);

/// <summary><c>audit.ledger.checkpoint</c>: a signed checkpoint (C2SP signed note, with any witness cosignatures).</summary>
/// <remarks>A verifying subscription yields it only once it verified it (signature, witness policy, consistency).</remarks>
public sealed record CheckpointMessage(long TreeSize, string Checkpoint) : StreamMessage("audit.ledger.checkpoint");

/// <summary><c>audit.event.proof</c>: the proof of an event sent earlier without one, against the checkpoint sent just before.</summary>
public sealed record EventProofMessage(long Seq, StreamProof Proof) : StreamMessage("audit.event.proof");

/// <summary>
/// Not from the server: a verifying subscription (<see cref="AuditStreamClientOptions.VerifyStreamProofs"/>) checked that the
/// event at <paramref name="Seq"/> is in the log a checkpoint of <paramref name="TreeSize"/> events signed by the pinned key
/// describes; <paramref name="ContentVerified"/> is true when its fields also hash to its <c>hash</c> (false when <c>pii</c>
/// is masked for this role, so only the stored hash was checked).
/// </summary>
public sealed record EventVerifiedMessage(long Seq, long TreeSize, bool Inline, bool ContentVerified) : StreamMessage("client.event.verified");

/// <summary><c>audit.security.alert</c>, <c>audit.compliance.alert</c> or <c>audit.system.alert</c>.</summary>
public sealed record AlertMessage(string AlertType, long Seq, JsonElement Alert) : StreamMessage(AlertType);

/// <summary><c>audit.stream.caught_up</c>: the replay from the ledger reached <paramref name="Seq"/>; what follows is live.</summary>
public sealed record CaughtUpMessage(long Seq) : StreamMessage("audit.stream.caught_up");

/// <summary><c>audit.stream.gap</c>: matching events in [<paramref name="FromSeq"/>, <paramref name="ToSeq"/>] were not sent (rate limit).</summary>
public sealed record GapMessage(long FromSeq, long ToSeq, string Reason) : StreamMessage("audit.stream.gap");

/// <summary><c>audit.connection.pong</c>.</summary>
public sealed record PongMessage(DateTimeOffset ServerTime) : StreamMessage("audit.connection.pong");

/// <summary><c>audit.filters.updated</c>: the filters now in force.</summary>
public sealed record FiltersUpdatedMessage(JsonElement Filters) : StreamMessage("audit.filters.updated");

/// <summary><c>audit.error</c>: the server refused a client message; the connection stays open.</summary>
public sealed record ErrorMessage(string Code, string Message, string? Field) : StreamMessage("audit.error")
{
    /// <summary>With code <c>proof_backlog</c>: the first seq that will get no proof.</summary>
    public long? FromSeq { get; init; }

    /// <summary>With code <c>proof_backlog</c>: the last seq that will get no proof.</summary>
    public long? ToSeq { get; init; }
}

/// <summary>
/// Not from the server: the connection was lost (or could not be made) and the client reconnects after
/// <paramref name="Delay"/>, resuming after <paramref name="ResumeAfterSeq"/> so nothing is missed or repeated.
/// </summary>
public sealed record ReconnectingMessage(string Reason, TimeSpan Delay, int Attempt, long? ResumeAfterSeq) : StreamMessage("client.reconnecting");

/// <summary>A message type this client version does not know; <paramref name="Body"/> is the whole message.</summary>
public sealed record UnknownMessage(string MessageType, JsonElement Body) : StreamMessage(MessageType);
