using System.ComponentModel.DataAnnotations;

namespace AuditStream.Streaming.Hub;

/// <summary>Limits of the live stream (DESIGN.md §5), bound from <c>AuditStream:Hub</c>.</summary>
public sealed class HubOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "AuditStream:Hub";

    /// <summary>Most stream clients connected at once; one more is refused with 503 before the upgrade.</summary>
    /// <value>Default 2000.</value>
    [Range(1, 1_000_000)]
    public int MaxClients { get; set; } = 2000;

    /// <summary>
    /// Most stream clients one token subject (the JWT <c>sub</c>; tokens without one share <c>anonymous</c>) may hold at
    /// once, over WebSocket and SSE together, whatever its role; one more is refused with 429 before the upgrade. Zero
    /// turns the limit off.
    /// </summary>
    /// <value>Default 100 connections.</value>
    [Range(0, 1_000_000)]
    public int MaxClientsPerSubject { get; set; } = 100;

    /// <summary>
    /// Most stream clients one remote address (an IPv6 address by its /64 prefix) may hold at once; one more is refused
    /// with 429 before the upgrade. Admin and security clients are counted but not refused by this limit, so a crowded
    /// address (a NAT, an attacker beside an operator) cannot lock them out. The address is the connection's peer: behind
    /// a proxy that every client shares, raise it or set zero. Zero turns the limit off.
    /// </summary>
    /// <value>Default 200 connections.</value>
    [Range(0, 1_000_000)]
    public int MaxClientsPerAddress { get; set; } = 200;

    /// <summary>
    /// Share of <see cref="MaxClients"/> kept for admin and security clients: other roles are refused with 503 once
    /// <c>MaxClients - floor(MaxClients × share)</c> clients are connected, so operators can still watch a full server.
    /// </summary>
    /// <value>Default 0.05 (100 of 2000 clients); from 0 (no reserve) to 0.5.</value>
    [Range(0.0, 0.5)]
    public double ReservedPrivilegedShare { get; set; } = 0.05;

    /// <summary>
    /// Frames queued per client; a live client whose queue is full is closed with 4008 <c>slow_consumer</c>. A queued
    /// frame is a reference to bytes shared by every client (8 bytes), and an idle client's queue is 8 slots, so the
    /// bound is about time: at 1,000 events/s, 4,096 frames let a client (or the server, while it warms up) fall 4 s behind.
    /// </summary>
    /// <value>Default 4096 frames.</value>
    [Range(2, 1_000_000)]
    public int ClientBufferSize { get; set; } = 4096;

    /// <summary>
    /// Events a proof-carrying client (<c>proofs=true</c>) may have waiting for a checkpoint that covers them; beyond it
    /// their proofs are not sent and the client is told which seqs with <c>audit.error</c> <c>proof_backlog</c>.
    /// </summary>
    /// <value>Default 16384 events.</value>
    [Range(1, 10_000_000)]
    public int ProofBacklogPerClient { get; set; } = 16_384;

    /// <summary>Inclusion proofs kept in the proof cache all proof-carrying clients share (one per seq and tree size).</summary>
    /// <value>Default 65536 proofs.</value>
    [Range(1, 10_000_000)]
    public int ProofCacheSize { get; set; } = 65_536;

    /// <summary>Largest client message accepted, in bytes; a larger one is discarded and answered with <c>audit.error</c>.</summary>
    /// <value>Default 32 KiB (32768 bytes).</value>
    [Range(256, 16 * 1024 * 1024)]
    public int MaxMessageSize { get; set; } = 32 * 1024;

    /// <summary>Most filter values a client may hold (<c>FilterValidator.CountValues</c>).</summary>
    /// <value>Default 50.</value>
    [Range(1, 100_000)]
    public int MaxFiltersPerClient { get; set; } = 50;

    /// <summary>Interval of WebSocket protocol pings (RFC 6455 §5.5.2), and of SSE keep-alive comments; zero turns them off.</summary>
    /// <value>Default 30 seconds.</value>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Browser origins (<c>https://console.example.com</c>) allowed to open the stream besides the server's own; <c>*</c>
    /// allows any. Requests without an <c>Origin</c> header (services, the CLI) are always allowed. The server also
    /// answers CORS for these origins on the browser-facing HTTP API (publish, reads, SSE, proofs); the list is reloaded
    /// without a restart.
    /// </summary>
    /// <value>Default empty: same origin only.</value>
#pragma warning disable CA1819, CA2227 // Bound from configuration as a list.
    public string[] AllowedOrigins { get; set; } = [];
#pragma warning restore CA1819, CA2227

    /// <summary>
    /// The origins browsers reach this server at (<c>https://audit.example.com</c>, scheme and authority only). When set,
    /// the stream's same-origin check compares a browser's <c>Origin</c> with these rather than with the request's
    /// <c>Host</c> header, which whoever sends the request chooses (DNS rebinding). Reloaded without a restart.
    /// </summary>
    /// <value>Default empty: same origin means the request's own scheme and <c>Host</c>.</value>
#pragma warning disable CA1819, CA2227 // Bound from configuration as a list.
    public string[] PublicOrigins { get; set; } = [];
#pragma warning restore CA1819, CA2227

    /// <summary>How long a WebSocket client may leave a protocol ping unanswered before its connection is dropped.</summary>
    /// <value>Default 60 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PongTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Live delivery holds frames for more before waking the clients that got them, for this long per such client (up to
    /// <see cref="FanOutMaxWindow"/>), so that frames committed close together go out in one socket write per client. A
    /// socket write costs about 10 µs of CPU whatever its size (DESIGN.md §7): with this default, waking N clients never
    /// costs more CPU than the time it waits, so a few clients are woken at once and thousands get batches.
    /// </summary>
    /// <value>Default 10 microseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan FanOutWindowPerClient { get; set; } = TimeSpan.FromTicks(100);

    /// <summary>The longest live delivery holds frames to batch them (<see cref="FanOutWindowPerClient"/>); zero wakes clients at once.</summary>
    /// <value>Default 20 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan FanOutMaxWindow { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a client being closed (slow consumer, shutdown) has to take the close frame before the socket is aborted.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most live events delivered to one client per second; matching events over the limit are skipped and announced
    /// with <c>audit.stream.gap</c>. Replays (<c>since_seq</c>, <c>resume</c>) are not limited. Zero turns the limit off.
    /// </summary>
    /// <value>Default 100 events per second.</value>
    [Range(0, 10_000_000)]
    public int RateLimitPerSecond { get; set; } = 100;

    /// <summary>
    /// Most live events delivered to one client per minute; matching events over the limit are skipped and announced
    /// with <c>audit.stream.gap</c>. Replays are not limited. Zero turns the limit off.
    /// </summary>
    /// <value>Default 1000 events per minute.</value>
    [Range(0, 100_000_000)]
    public int RateLimitPerMinute { get; set; } = 1000;

    /// <summary>
    /// Most messages a client may send per second; the rest of that second's messages are ignored and answered once with
    /// <c>audit.error</c> <c>rate_limited</c>. 0 turns the limit off.
    /// </summary>
    /// <value>Default 20 messages per second.</value>
    [Range(0, 1_000_000)]
    public int MaxInboundMessagesPerSecond { get; set; } = 20;

    /// <summary>Whether connections, refusals, filter changes and slow-consumer closes are recorded as audit events (category <c>system</c>).</summary>
    /// <value>Default <c>true</c>.</value>
    public bool RecordActivity { get; set; } = true;

    /// <summary>Most stream-activity audit events written per second; the rest are counted and the count is carried by the next one written.</summary>
    /// <value>Default 10 events per second.</value>
    [Range(1, 10_000)]
    public int ActivityEventsPerSecond { get; set; } = 10;

    /// <summary>Consecutive seconds over <see cref="MaxInboundMessagesPerSecond"/> after which the client is closed with 1008 <c>policy_violation</c>.</summary>
    /// <value>Default 5 seconds.</value>
    [Range(1, 3_600)]
    public int MaxInboundViolations { get; set; } = 5;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var origin in PublicOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || uri.UserInfo.Length > 0)
            {
                yield return new ValidationResult(
                    $"'{origin}' is not an origin: give the scheme and authority only, e.g. https://audit.example.com or http://localhost:8080.",
                    [nameof(PublicOrigins)]);
            }
        }
    }
}
