using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using AuditStream.Security;
using AuditStream.Server.Tests.Operations;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>Per-subject and per-address connection limits and the slots kept for admin and security (issue 13, item 5).</summary>
public sealed class StreamConnectionLimitTests
{
    [Fact]
    public async Task One_token_beyond_MaxClientsPerSubject_is_refused_with_429_naming_the_limit_and_an_admin_still_connects()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:MaxClients"] = "10",
            ["AuditStream:Hub:MaxClientsPerSubject"] = "3",
        });
        var token = server.Token("auditor", "acme", subject: "hostile");
        await using var clients = new ClientSet();
        for (var i = 0; i < 3; i++)
        {
            clients.Add((await StreamClient.ConnectEstablishedAsync(server, token)).Client);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await RefusedWebSocketStatusAsync(server, token));
        var problem = await RefusedEventStreamProblemAsync(server, token, HttpStatusCode.TooManyRequests);
        Assert.Equal("sub", problem["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Hub:MaxClientsPerSubject", problem["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        // Another subject of the same role, the same subject name in another tenant, and an admin, are not affected.
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme", subject: "colleague"))).Client);
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "beta", subject: "hostile"))).Client);
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"))).Client);

        var scrape = await PrometheusScrape.ReadWhenAsync(server, 2, "audit_websocket_connections_refused_total", ("reason", "max_clients_per_subject"));
        Assert.Equal(2, scrape.Value("audit_websocket_connections_refused_total", ("reason", "max_clients_per_subject")));
        Assert.Equal(0, scrape.Value("audit_websocket_connections_refused_total", ("reason", "max_clients_per_address")));
    }

    [Fact]
    public async Task One_address_beyond_MaxClientsPerAddress_is_refused_with_429_for_other_roles_but_not_for_admin_or_security()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:MaxClientsPerSubject"] = "0",
            ["AuditStream:Hub:MaxClientsPerAddress"] = "2",
        });
        await using var clients = new ClientSet();
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme", subject: "a"))).Client);
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("operator", "acme", subject: "b"))).Client);

        var third = server.Token("auditor", "acme", subject: "c");
        Assert.Equal(HttpStatusCode.TooManyRequests, await RefusedWebSocketStatusAsync(server, third));
        var problem = await RefusedEventStreamProblemAsync(server, third, HttpStatusCode.TooManyRequests);
        Assert.Equal("remote_address", problem["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Hub:MaxClientsPerAddress", problem["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"))).Client);
        clients.Add(await EventStreamClient.ConnectEstablishedAsync(server, server.Token("security", "acme")));
        Assert.Equal(2, server.Services.GetRequiredService<HubMetrics>().RefusedByReason[HubMetrics.RefusalReasons.MaxClientsPerAddress]);
    }

    [Fact]
    public async Task The_reserved_share_of_MaxClients_admits_only_admin_and_security_and_names_the_rule_when_it_refuses()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:MaxClients"] = "4",
            ["AuditStream:Hub:ReservedPrivilegedShare"] = "0.5",
        });
        await using var clients = new ClientSet();
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme", subject: "a"))).Client);
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme", subject: "b"))).Client);

        var other = server.Token("compliance", "acme", subject: "c");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await RefusedWebSocketStatusAsync(server, other));
        var reserved = await RefusedEventStreamProblemAsync(server, other, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("role", reserved["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Hub:ReservedPrivilegedShare", reserved["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        clients.Add((await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"))).Client);
        clients.Add(await EventStreamClient.ConnectEstablishedAsync(server, server.Token("security", "acme")));

        var full = await RefusedEventStreamProblemAsync(server, server.Token("admin", "*", subject: "second-admin"), HttpStatusCode.ServiceUnavailable);
        Assert.Equal("connections", full["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Hub:MaxClients", full["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        var refused = server.Services.GetRequiredService<HubMetrics>().RefusedByReason;
        Assert.Equal(2, refused[HubMetrics.RefusalReasons.ReservedForPrivileged]);
        Assert.Equal(1, refused[HubMetrics.RefusalReasons.MaxClients]);
    }

    [Fact]
    public void A_released_ticket_gives_its_subject_and_address_their_slot_back()
    {
        using var hub = new StreamHub(
            new HubOptions { MaxClients = 10, MaxClientsPerSubject = 1, MaxClientsPerAddress = 1 }, TimeProvider.System, NullLoggerFactory.Instance);

        Assert.True(hub.TryAdmit(Role.Auditor, "s", "192.0.2.1", out var first, out _));
        Assert.False(hub.TryAdmit(Role.Auditor, "s", "192.0.2.2", out _, out var bySubject));
        Assert.Equal(HubMetrics.RefusalReasons.MaxClientsPerSubject, bySubject);
        Assert.False(hub.TryAdmit(Role.Auditor, "t", "192.0.2.1", out _, out var byAddress));
        Assert.Equal(HubMetrics.RefusalReasons.MaxClientsPerAddress, byAddress);

        first.Dispose();
        first.Dispose();

        Assert.Equal(0, hub.ClientCount);
        Assert.True(hub.TryAdmit(Role.Auditor, "s", "192.0.2.1", out var again, out _));
        again.Dispose();
    }

    [Fact]
    public async Task Connection_limits_changed_at_run_time_apply_to_the_next_connection()
    {
        var configuration = new Dictionary<string, string?> { ["AuditStream:Hub:MaxClientsPerSubject"] = "5" };
        await using var server = await TestServer.StartAsync(configuration);
        var token = server.Token("auditor", "acme", subject: "reloaded");
        await using var clients = new ClientSet();
        clients.Add((await StreamClient.ConnectEstablishedAsync(server, token)).Client);

        var root = (Microsoft.Extensions.Configuration.IConfigurationRoot)server.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var hub = server.Services.GetRequiredService<StreamHub>();
        root["AuditStream:Hub:MaxClientsPerSubject"] = "1";

        // The options monitor applies the change before Reload returns.
        root.Reload();

        Assert.Equal(1, hub.Options.MaxClientsPerSubject);
        Assert.Equal(HttpStatusCode.TooManyRequests, await RefusedWebSocketStatusAsync(server, token));
    }

    /// <summary>The HTTP status of a WebSocket handshake the server must refuse.</summary>
    private static async Task<HttpStatusCode?> RefusedWebSocketStatusAsync(TestServer server, string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(StreamClient.Timeout);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(StreamClient.Address(server, "?token=" + token), cts.Token));
        return StreamClient.StatusOf(socket);
    }

    /// <summary>The problem details of an SSE request the server must refuse with <paramref name="status"/> and Retry-After.</summary>
    private static async Task<JsonNode> RefusedEventStreamProblemAsync(TestServer server, string token, HttpStatusCode status)
    {
        using var http = server.Client(token);
        using var refused = await http.GetAsync("api/v1/stream");
        Assert.Equal(status, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(refused);
        Assert.Equal("https://auditstream.dev/problems/stream-connection-limit", problem["type"]!.GetValue<string>());
        return problem;
    }

    /// <summary>Stream clients of either transport, disposed together.</summary>
    private sealed class ClientSet : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _clients = [];

        public void Add(IAsyncDisposable client) => _clients.Add(client);

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
