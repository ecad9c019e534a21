using System.Globalization;
using System.Security.Claims;
using AuditStream.Filters;
using AuditStream.Server.Api;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Validation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace AuditStream.Server.Streaming;

/// <summary>
/// <c>GET /ws/audit</c>, the live stream of DESIGN.md §5. Every check answers with an HTTP status before the upgrade: no
/// or a bad token 401, not a WebSocket request 400, a token without a tenant 403, a bad <c>since_seq</c> or filter 400, a
/// connection limit 429 or 503 (<see cref="AdmitAsync"/>).
/// Any authenticated role connects; a role that receives no audit events (<c>user</c>) gets only its connection messages.
/// </summary>
internal static partial class StreamEndpoints
{
    /// <summary>Subprotocols starting with this carry the token (<c>bearer.&lt;jwt&gt;</c>), for browsers that cannot set headers.</summary>
    public const string BearerSubprotocolPrefix = "bearer.";

    /// <summary>The live stream's path.</summary>
    public const string Path = "/ws/audit";

    // CONNECT too, so that an HTTP/2 WebSocket (RFC 8441) is told why it is refused rather than given 405.
    public static void MapStreaming(this IEndpointRouteBuilder app) =>
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Connect], ConnectAsync);

    /// <summary>
    /// Whether <paramref name="path"/> is a stream endpoint. These authenticate in the endpoint rather than in the
    /// authentication and authorization middleware, whose frames would otherwise keep the validated token and its claims
    /// alive for as long as the connection lasts.
    /// </summary>
    public static bool IsStreamPath(PathString path) => path.StartsWithSegments(Path) || path.StartsWithSegments(EventStreamEndpoints.Path);

    /// <summary>Authenticates a stream request (the same JWT bearer scheme and token sources); false after answering 401.</summary>
    internal static Task<bool> AuthenticateAsync(HttpContext http) => InOwnScopeAsync(http, static async http =>
    {
        var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (result.Succeeded)
        {
            http.User = result.Principal;
            return true;
        }

        // The challenge sets 401 and WWW-Authenticate; the body names the claim, as the REST endpoints' 401 does.
        await http.ChallengeAsync(JwtBearerDefaults.AuthenticationScheme);
        var audience = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.Audience;
        await AuthorizationProblems.Unauthorized(http, result.Failure, audience);
        return false;
    });

    /// <summary>Authenticates as <see cref="AuthenticateAsync"/> does but answers nothing: false when the token does not pass.</summary>
    internal static Task<bool> TryAuthenticateAsync(HttpContext http) => InOwnScopeAsync(http, static async http =>
    {
        var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
        if (result.Succeeded)
        {
            http.User = result.Principal;
        }

        return result.Succeeded;
    });

    // The authentication handlers cache their result for the request's scope; a scope of their own lets it go.
    private static async Task<bool> InOwnScopeAsync(HttpContext http, Func<HttpContext, Task<bool>> authenticate)
    {
        var requestServices = http.RequestServices;
        await using var scope = requestServices.CreateAsyncScope();
        http.RequestServices = scope.ServiceProvider;
        try
        {
            return await authenticate(http);
        }
        finally
        {
            http.RequestServices = requestServices;
        }
    }

    private static async Task ConnectAsync(HttpContext http, StreamHub hub, LedgerService ledgers)
    {
        if (!await AuthenticateAsync(http))
        {
            return;
        }

        if (CheckWebSocketRequest(http, hub, out var filter, out var sinceSeq, out var ledgerId) is { } problem)
        {
            await problem.ExecuteAsync(http);
            RecordRefusal(http, "websocket", http.Response.StatusCode);
            return;
        }

        if (await AdmitAsync(http, hub, "websocket") is not { } ticket)
        {
            return;
        }

        using (ticket)
        {
            var connection = await WebSocketUpgrade.AcceptAsync(http, ChooseSubprotocol(WebSocketUpgrade.OfferedSubprotocols(http.Request)));
            var request = await RequestAsync(http, ledgers.Ledger, filter, sinceSeq, ledgerId);
            await hub.RunWebSocketClientAsync(ticket, connection, request, http.RequestAborted);
        }
    }

    /// <summary>
    /// The checks of an authenticated <c>/ws/audit</c> request before admission, in their order: an RFC 6455 upgrade
    /// (400), then <see cref="CheckRequest"/>. Returns the problem to answer, or null. Both the HTTP endpoint and the
    /// connection layer (<see cref="Connections.StreamConnectionTakeover"/>) ask this.
    /// </summary>
    internal static IResult? CheckWebSocketRequest(HttpContext http, StreamHub hub, out StreamFilter filter, out long? sinceSeq, out string? ledgerId)
    {
        if (WebSocketUpgrade.Problem(http) is { } notUpgrade)
        {
            (filter, sinceSeq, ledgerId) = (StreamFilter.All, null, null);
            return notUpgrade;
        }

        return CheckRequest(http, hub, http.Request.Query["since_seq"].ToString(), out filter, out sinceSeq, out ledgerId);
    }

    /// <summary>
    /// The caller's subject counted within its tenant (for connection limits and the subject rate limit): `sub` values of
    /// different tenants (or issuers' defaults such as the CLI's cli-&lt;role&gt;) may coincide, and one tenant must not use
    /// up another's share.
    /// </summary>
    internal static string SubjectKey(ClaimsPrincipal user) => $"{(user.HasAllTenants() ? "*" : user.GetTenant())}\u001f{user.GetSubject()}";

    /// <summary>
    /// What <c>MaxClientsPerAddress</c> counts by: an IPv4 address, or an IPv6 address's /64 network (one host is
    /// commonly given a whole /64, so counting single IPv6 addresses would not limit it).
    /// </summary>
    internal static string? AddressKey(HttpContext http)
    {
        if (http.Connection.RemoteIpAddress is not { } ip)
        {
            return null;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4().ToString();
        }

        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || System.Net.IPAddress.IsLoopback(ip))
        {
            return ip.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new System.Net.IPAddress(bytes).ToString() + "/64";
    }

    /// <summary>The client's IP address as text (IPv4-mapped IPv6 shown as IPv4), for the audit trail.</summary>
    internal static string? RemoteAddress(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } ip ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : null;

    /// <summary>
    /// The stream request of an admitted, checked caller. Without <paramref name="sinceSeq"/>, a filter whose time range
    /// starts in the past (absolute or relative) replays from the first event committed at or after that start (DESIGN.md §5).
    /// </summary>
    internal static async Task<ClientRequest> RequestAsync(HttpContext http, AuditStream.Ledger.AuditLedger ledger, StreamFilter filter, long? sinceSeq, string? resumeLedgerId)
    {
        if (sinceSeq is null && filter.TimeRange is not null)
        {
            var time = http.RequestServices.GetRequiredService<TimeProvider>();
            if (CompiledFilter.Compile(filter, time).Start is { } start && start < time.GetUtcNow()
                && await ledger.Store.FindSeqAtOrAfterAsync(AuditStream.Events.Timestamps.ToMicros(start), http.RequestAborted) is { } first)
            {
                sinceSeq = first - 1;
            }
        }

        // Kept even when the client did not ask for proofs yet: update_filters may turn them on.
        var proofScope = http.RequestServices.GetRequiredService<Auth.Attributes.AttributeAccess>().Refusal(http.User, AuditStream.Security.Attributes.AuthorizationActions.Proof) is null
            ? EventReadEndpoints.Scope(http, AuditStream.Security.Attributes.AuthorizationActions.Proof)
            : null;
        var request = new ClientRequest(
            EventReadEndpoints.Scope(http, AuditStream.Security.Attributes.AuthorizationActions.Subscribe), ledger.Feed, filter, sinceSeq, http.User.GetSubject(), RemoteAddress(http), ledger.LedgerId, resumeLedgerId, proofScope);
        ReleaseRequestState(http);
        return request;
    }

    /// <summary>
    /// A stream request lives as long as its client, and with it everything the request held. What the client needs is
    /// now in its <see cref="ClientRequest"/>, so drop the rest: the validated token with its claims and the query
    /// (which may carry the token) are several KiB per connection, more than the client's own state.
    /// </summary>
    private static void ReleaseRequestState(HttpContext http)
    {
        http.User = new System.Security.Claims.ClaimsPrincipal();
        http.Features.Set<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>(null);
        http.Request.Query = QueryCollection.Empty;
        http.Request.QueryString = QueryString.Empty;
        http.Request.Headers.Clear();
    }

    /// <summary>Records a refused stream connection (before any upgrade) in the stream's audit trail.</summary>
    internal static void RecordRefusal(HttpContext http, string transport, int status, string? reason = null)
    {
        Log.Refused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StreamEndpoints).FullName!), RemoteAddress(http), transport, status);
        if (http.RequestServices.GetService<IStreamActivitySink>() is { } sink)
        {
            var user = http.User;
            sink.Record(new StreamActivity(
                StreamActivityKinds.Refused,
                ClientId: null,
                Role: user.GetRole() is { } role ? AuditStream.Security.RoleNames.ToName(role) : null,
                TenantId: user.GetTenant(),
                Subject: user.Identity?.IsAuthenticated == true ? user.GetSubject() : null,
                RemoteAddress: RemoteAddress(http),
                Transport: transport,
                Detail: reason is null ? $"HTTP {status}" : $"HTTP {status} {reason}"));
        }
    }

    /// <summary>
    /// The checks every stream transport makes before it starts: a tenant (or all tenants), a valid <c>since_seq</c>
    /// (<paramref name="since"/>, empty for none), a well-formed <c>ledger_id</c> if any (compared with the ledger's once
    /// the stream runs, so a foreign one gets <c>audit.error</c>) and valid query filters. Returns the problem to answer, or null.
    /// </summary>
    internal static IResult? CheckRequest(HttpContext http, StreamHub hub, string since, out StreamFilter filter, out long? sinceSeq, out string? ledgerId)
    {
        filter = StreamFilter.All;
        sinceSeq = null;
        ledgerId = http.Request.Query["ledger_id"].ToString() is { Length: > 0 } id ? id : null;
        if (!OriginAllowed(http.Request, hub.Options))
        {
            var own = hub.Options.PublicOrigins.Length > 0 ? "one of AuditStream:Hub:PublicOrigins" : "the server's own origin";
            return Problems.Forbidden(
                $"Origin {http.Request.Headers.Origin} may not open the stream.",
                [new ProblemError(null, "origin", $"must be {own} or one of AuditStream:Hub:AllowedOrigins")]);
        }

        // The same claim checks as the REST policies (the stream authenticates in the endpoint, not the middleware).
        if (TenantClaim.Problem(http.User) is var (claim, rule))
        {
            return ClaimRefusal(claim, rule);
        }

        var authOptions = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value;
        if (MultiFactor.IsPrivileged(http.User, authOptions) && !MultiFactor.Satisfied(http.User, authOptions))
        {
            var step = MultiFactor.PrivilegedRule(authOptions);
            return ClaimRefusal(step.Claim, step.Rule);
        }

        if (http.RequestServices.GetRequiredService<Auth.Attributes.AttributeAccess>().Refusal(http.User, AuditStream.Security.Attributes.AuthorizationActions.Subscribe) is { } denied)
        {
            return Problems.Forbidden($"The attribute rules do not allow subscribe for this token: {denied.Rule}.", [denied]);
        }

        if (since.Length > 0)
        {
            if (!long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return Problems.BadRequest("since_seq is not a seq.", "since_seq", "must be a whole number of at least 0");
            }

            sinceSeq = parsed;
        }

        if (ledgerId is not null && !AuditStream.Streaming.Protocol.LedgerIds.IsWellFormed(ledgerId))
        {
            return Problems.BadRequest("ledger_id is not a ledger id.", "ledger_id", $"must be {AuditStream.Streaming.Protocol.LedgerIds.Rule}");
        }

        var errors = new List<ValidationError>();
        var query = http.Request.Query.SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)));
        filter = StreamFilter.FromQuery(query, errors);
        if (errors.Count == 0)
        {
            FilterValidator.Validate(filter, hub.Options.MaxFiltersPerClient, errors);
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest("The stream filters are invalid.", errors[0].Field, errors[0].Rule);
        }

        // Proof-carrying streams follow the rules for proofs as the REST proof endpoints do.
        if (filter.Proofs == true
            && http.RequestServices.GetRequiredService<Auth.Attributes.AttributeAccess>().Refusal(http.User, AuditStream.Security.Attributes.AuthorizationActions.Proof) is { } noProofs)
        {
            return Problems.Forbidden($"The attribute rules do not allow proof for this token: {noProofs.Rule}.", [noProofs]);
        }

        return null;
    }

    private static IResult ClaimRefusal(string claim, string rule) =>
        Problems.Forbidden($"The token's {claim} claim does not allow this: {claim} {rule}.", [new ProblemError(null, claim, rule)]);

    /// <summary>
    /// Cross-site WebSocket hijacking guard: a request without <c>Origin</c> (a service, a CLI) or from the server's own
    /// origin is allowed; a browser page elsewhere only if its origin is in <see cref="HubOptions.AllowedOrigins"/> (or
    /// the list holds <c>*</c>). The server's own origin is <see cref="HubOptions.PublicOrigins"/> when configured, and
    /// only otherwise the request's scheme and <c>Host</c>: a header the sender chooses, so a DNS-rebinding page whose
    /// name points at this server is "same origin" by it.
    /// </summary>
    internal static bool OriginAllowed(HttpRequest request, HubOptions options)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        if (Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            var own = options.PublicOrigins;
            if (own.Length > 0
                ? own.Any(o => Uri.TryCreate(o, UriKind.Absolute, out var publicOrigin) && SameOrigin(uri, publicOrigin.Scheme, publicOrigin.Authority))
                : SameOrigin(uri, request.Scheme, request.Host.Value))
            {
                return true;
            }
        }

        return BrowserCors.IsListed(origin, options.AllowedOrigins);
    }

    private static bool SameOrigin(Uri origin, string scheme, string? authority) =>
        string.Equals(origin.Scheme, scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(origin.Authority, authority, StringComparison.OrdinalIgnoreCase);

    /// <summary>The first offered subprotocol that is not a token, else the token one (a browser fails the handshake
    /// unless the server echoes one it offered).</summary>
    internal static string? ChooseSubprotocol(List<string> offered) =>
        offered.FirstOrDefault(static p => !p.StartsWith(BearerSubprotocolPrefix, StringComparison.Ordinal)) ?? offered.FirstOrDefault();

    /// <summary>The token from a <c>bearer.&lt;jwt&gt;</c> subprotocol, or null.</summary>
    public static string? TokenFromSubprotocol(HttpRequest request)
    {
        foreach (var header in request.Headers.SecWebSocketProtocol)
        {
            foreach (var value in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (value.StartsWith(BearerSubprotocolPrefix, StringComparison.Ordinal) && value.Length > BearerSubprotocolPrefix.Length)
                {
                    return value[BearerSubprotocolPrefix.Length..];
                }
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 13, EventName = "StreamConnectionRefused", Level = LogLevel.Information,
            Message = "Stream connection from {RemoteAddress} over {Transport} refused with HTTP {Status}")]
        public static partial void Refused(ILogger logger, string? remoteAddress, string transport, int status);
    }
}
