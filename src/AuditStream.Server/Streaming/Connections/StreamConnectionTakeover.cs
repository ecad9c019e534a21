using System.IO.Pipelines;
using System.Net;
using System.Text;
using AuditStream.Server.Hosting;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Transports.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Streaming.Connections;

/// <summary>
/// Kestrel connection middleware that takes <c>/ws/audit</c> clients over on the connection layer, so that an accepted
/// stream client holds no <c>Http1Connection</c> and no <see cref="HttpContext"/>: only its socket's pipes and its own state.
/// It looks at a connection's first request head without consuming it (<see cref="RequestHead"/>). Only a plain HTTP/1.1
/// <c>GET /ws/audit</c> upgrade that every check of the HTTP endpoint would admit — the same JWT bearer validation
/// (<see cref="StreamEndpoints.TryAuthenticateAsync"/>), <see cref="StreamEndpoints.CheckWebSocketRequest"/> (handshake,
/// Origin, tenant and role claims, attribute rules, filters) and <see cref="StreamEndpoints.Admit"/> (rate limits, hub
/// limits), run on a short-lived context built from the head — is answered 101 here and run over the transport pipes.
/// Everything else (another path, TLS, HTTP/2, a keep-alive request first, every refusal, every doubt) goes to HTTP with
/// its bytes unread, so the HTTP endpoint answers it exactly as before; a refusal of the limits is handed over decided
/// (<see cref="PendingRefusal"/>). A connection handed to HTTP stays there.
/// </summary>
internal sealed class StreamConnectionTakeover
{
    private static readonly object PeekMarker = new();

    private readonly ConnectionDelegate _next;
    private readonly IServiceProvider _services;
    private readonly KestrelServerLimits _limits;
    private readonly bool _enabled;

    private readonly string _scheme;
    private readonly string? _hsts;

    private StreamConnectionTakeover(ConnectionDelegate next, IServiceProvider services, bool afterTls)
    {
        _scheme = afterTls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        _next = next;
        _services = services;
        _limits = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        // What HTTP would do before the endpoint and this layer does not repeat: redirect plain HTTP to HTTPS, filter
        // hosts, cap upgraded connections (HSTS it does: the 101 carries the header as HTTP's would). With any of them on, those stream connections go to HTTP.
        var tls = services.GetRequiredService<IOptions<Hosting.Tls.TlsOptions>>().Value;
        var hosts = services.GetRequiredService<IOptions<Microsoft.AspNetCore.HostFiltering.HostFilteringOptions>>().Value.AllowedHosts;
        _hsts = afterTls ? Hosting.Tls.TlsSetup.StrictTransportSecurity(tls) : null;
        _enabled = !(tls.Enabled && !afterTls && tls.RedirectHttp)
            && hosts.All(static h => h == "*")
            && _limits.MaxConcurrentUpgradedConnections is null;
    }

    /// <summary>Adds the takeover in front of HTTP on <paramref name="listen"/> (and in front of TLS, whose bytes it passes on).</summary>
    public static void Use(ListenOptions listen) => listen.Use(next => new StreamConnectionTakeover(next, listen.ApplicationServices, afterTls: false).OnConnectionAsync);

    /// <summary>Adds the takeover after TLS on an HTTPS endpoint (call after <c>UseHttps</c>): <c>wss://</c> clients.</summary>
    public static void UseAfterTls(ListenOptions listen) => listen.Use(next => new StreamConnectionTakeover(next, listen.ApplicationServices, afterTls: true).OnConnectionAsync);

    /// <summary>Whether <paramref name="http"/> is this layer's look at a request (authentication failures are logged by HTTP, once).</summary>
    public static bool IsPeek(HttpContext http) => http.Items.ContainsKey(PeekMarker);

    private async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (!_enabled)
        {
            await _next(connection);
            return;
        }

        var input = connection.Transport.Input;
        var peek = await PeekAsync(input);
        Accepted? accepted = null;
        if (peek.Head is { } head)
        {
            try
            {
                accepted = await AcceptAsync(connection, head);
            }
#pragma warning disable CA1031 // Whatever fails here, HTTP runs the same checks again and answers (or logs) it.
            catch (Exception)
#pragma warning restore CA1031
            {
                accepted = null;
            }
        }

        if (accepted is not { } client)
        {
            // HTTP reads the bytes looked at; after more than one read they were examined, and only the held result shows them.
            if (peek.Examined == 0)
            {
                input.AdvanceTo(peek.Result.Buffer.Start);
            }
            else if (peek.Examined > 0)
            {
                connection.Transport = new Pipes(new PeekedPipeReader(input, peek.Result, peek.Examined), connection.Transport.Output);
            }

            await _next(connection);
            return;
        }

        // The head (its query may hold the token) is not kept for the connection's life.
        input.AdvanceTo(peek.Result.Buffer.GetPosition(peek.Head!.Length));
        peek = default;
        using (client.Ticket)
        {
            await connection.Transport.Output.WriteAsync(SwitchingProtocols(client));
            await client.Hub.RunWebSocketClientAsync(client.Ticket, new DuplexPipeStream(connection.Transport), client.Request, connection.ConnectionClosed);
        }
    }

    /// <summary>
    /// Reads until the first request head is complete or is not a stream request, within Kestrel's header timeout
    /// (a slow or silent client then goes to HTTP, whose own timeout judges it). The last read is left unadvanced.
    /// </summary>
    private async Task<Peek> PeekAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(_limits.RequestHeadersTimeout);
        long examined = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return new Peek(default, null, -1);
            }

            RequestHead? head = null;
            var outcome = result.IsCanceled ? RequestHeadOutcome.NotStream : RequestHead.Parse(result.Buffer, _limits, out head);
            if (outcome == RequestHeadOutcome.NeedMore && !result.IsCompleted)
            {
                examined = result.Buffer.Length;
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            return new Peek(result, outcome == RequestHeadOutcome.Head ? head : null, examined);
        }
    }

    /// <summary>Runs the endpoint's checks on a context built from <paramref name="head"/>; the admitted client, or null for HTTP to answer.</summary>
    private async Task<Accepted?> AcceptAsync(ConnectionContext connection, RequestHead head)
    {
        var http = new DefaultHttpContext();
        http.Items[PeekMarker] = true;
        var request = http.Request;
        request.Method = HttpMethods.Get;
        request.Scheme = _scheme;
        request.Protocol = "HTTP/1.1";
        request.Path = StreamEndpoints.Path;
        if (head.QueryString.Length > 0)
        {
            request.QueryString = new QueryString(head.QueryString);
        }

        foreach (var (name, value) in head.Headers)
        {
            request.Headers.Append(name, value);
        }

        http.Features.Set<IHttpUpgradeFeature>(WebSocketUpgrade.HasToken(request.Headers.Connection, "upgrade") ? PeekedUpgrade.Upgradable : PeekedUpgrade.NotUpgradable);
        http.Connection.Id = connection.ConnectionId;
        if (connection.RemoteEndPoint is IPEndPoint remote)
        {
            (http.Connection.RemoteIpAddress, http.Connection.RemotePort) = (remote.Address, remote.Port);
        }

        if (connection.LocalEndPoint is IPEndPoint local)
        {
            (http.Connection.LocalIpAddress, http.Connection.LocalPort) = (local.Address, local.Port);
        }

        http.RequestAborted = connection.ConnectionClosed;
        await using var scope = _services.CreateAsyncScope();
        http.RequestServices = scope.ServiceProvider;
        var hub = _services.GetRequiredService<StreamHub>();
        if (!await StreamEndpoints.TryAuthenticateAsync(http)
            || StreamEndpoints.CheckWebSocketRequest(http, hub, out var filter, out var sinceSeq, out var ledgerId) is not null)
        {
            return null;
        }

        var key = request.Headers.SecWebSocketKey.ToString();
        if (StreamEndpoints.Admit(http, hub, out var problem, out var reason) is not { } ticket)
        {
            PendingRefusal.Leave(connection.Items, new PendingRefusal(key, problem!, reason));
            return null;
        }

        try
        {
            var subprotocol = StreamEndpoints.ChooseSubprotocol(WebSocketUpgrade.OfferedSubprotocols(request));
            var clientRequest = await StreamEndpoints.RequestAsync(http, _services.GetRequiredService<LedgerService>().Ledger, filter, sinceSeq, ledgerId);
            var hsts = _hsts is not null && Hosting.Tls.TlsSetup.HstsApplies(request) ? _hsts : null;
            return new Accepted(hub, ticket, clientRequest, WebSocketHandshake.AcceptKey(key), subprotocol, hsts);
        }
        catch
        {
            ticket.Dispose();
            throw;
        }
    }

    /// <summary>The 101 answer: the RFC 6455 §4.2.2 headers and those every answer of the server carries (<see cref="ResponseHeaders"/>).</summary>
    private byte[] SwitchingProtocols(Accepted client)
    {
        IHeaderDictionary headers = new HeaderDictionary();
        headers.Date = _services.GetRequiredService<TimeProvider>().GetUtcNow().ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = client.AcceptKey;
        if (client.Subprotocol is not null)
        {
            headers.SecWebSocketProtocol = client.Subprotocol;
        }

        if (client.StrictTransportSecurity is not null)
        {
            headers.StrictTransportSecurity = client.StrictTransportSecurity;
        }

        ResponseHeaders.Apply(headers, takesToken: true);
        var text = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
        foreach (var (name, values) in headers)
        {
            text.Append(name).Append(": ").Append(values.ToString()).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
    }

    // Examined -1: the read timed out, nothing is held.
    private readonly record struct Peek(ReadResult Result, RequestHead? Head, long Examined);

    private sealed record Accepted(StreamHub Hub, ClientTicket Ticket, ClientRequest Request, string AcceptKey, string? Subprotocol, string? StrictTransportSecurity);

    private sealed class Pipes(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    // What the endpoint's handshake check asks of the context; nothing upgrades through it.
    private sealed class PeekedUpgrade(bool upgradable) : IHttpUpgradeFeature
    {
        public static readonly PeekedUpgrade Upgradable = new(true);
        public static readonly PeekedUpgrade NotUpgradable = new(false);

        public bool IsUpgradableRequest => upgradable;

        public Task<Stream> UpgradeAsync() => throw new NotSupportedException("The connection layer answers the upgrade itself.");
    }
}
