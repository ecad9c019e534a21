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
    : StreamMessage("audit.connection.established");

/// <summary><c>audit.event.published</c>: a committed event that matches the filters; seqs arrive in increasing order, each once.</summary>
public sealed record EventMessage(long Seq, AuditEvent Event) : StreamMessage("audit.event.published");

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
public sealed record ErrorMessage(string Code, string Message, string? Field) : StreamMessage("audit.error");

/// <summary>
/// Not from the server: the connection was lost (or could not be made) and the client reconnects after
/// <paramref name="Delay"/>, resuming after <paramref name="ResumeAfterSeq"/> so nothing is missed or repeated.
/// </summary>
public sealed record ReconnectingMessage(string Reason, TimeSpan Delay, int Attempt, long? ResumeAfterSeq) : StreamMessage("client.reconnecting");

/// <summary>A message type this client version does not know; <paramref name="Body"/> is the whole message.</summary>
public sealed record UnknownMessage(string MessageType, JsonElement Body) : StreamMessage(MessageType);
