using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.RateLimits;

/// <summary>Each layer of AuditStream:RateLimits over the real server: 429 with Retry-After naming the layer, isolation, no lost data.</summary>
public sealed class RateLimitTests
{
    // An hour's period: nothing refills while a loaded machine runs the test.
    private static Dictionary<string, string?> Limit(string key, int limit) => new()
    {
        [$"AuditStream:RateLimits:{key}:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"AuditStream:RateLimits:{key}:Period"] = "01:00:00",
    };

    [Fact]
    public async Task A_tenant_over_its_ingest_limit_gets_429_naming_the_layer_and_another_tenant_is_not_limited()
    {
        await using var server = await TestServer.StartAsync(Limit("Ingest:PerTenant", 2));
        using var acme = server.Producer("acme");
        using var acmeOther = server.Client(server.Token("operator", "acme", [AuditStream.Server.Auth.AuditClaims.WriteScope], subject: "second-producer"));
        await Json.PostEventsAsync(acme, Json.Event(1));
        await Json.PostEventsAsync(acmeOther, Json.Event(2));

        using var refused = await acme.PostAsync("api/v1/events", Json.Content(Json.Event(3)));
        await AssertLimitedAsync(refused, "ingest", "tenant", "tenant", "AuditStream:RateLimits:Ingest:PerTenant");
        Assert.DoesNotContain("acme", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var globex = server.Producer("globex");
        await Json.PostEventsAsync(globex, Json.Event(4));
        Assert.Equal(3, server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_subject_over_its_read_limit_is_refused_and_another_subject_of_the_tenant_is_not()
    {
        await using var server = await TestServer.StartAsync(Limit("Reads:PerSubject", 1));
        using var first = server.Client(server.Token("admin", "acme", subject: "alice"));
        using var second = server.Client(server.Token("admin", "acme", subject: "bob"));

        using (var ok = await first.GetAsync("api/v1/events"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await first.GetAsync("api/v1/events");
        await AssertLimitedAsync(refused, "reads", "subject", "sub", "AuditStream:RateLimits:Reads:PerSubject");
        using var other = await second.GetAsync("api/v1/events");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task An_address_over_its_read_limit_is_refused_even_without_a_token()
    {
        await using var server = await TestServer.StartAsync(Limit("Reads:PerAddress", 2));
        using var anonymous = server.Client();
        using (var first = await anonymous.GetAsync("api/v1/ledger/public-key"))
        using (var second = await anonymous.GetAsync("api/v1/events"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        }

        using var refused = await anonymous.GetAsync("api/v1/ledger/public-key");
        await AssertLimitedAsync(refused, "reads", "address", "remote_address", "AuditStream:RateLimits:Reads:PerAddress");

        // Probes are never limited.
        using var live = await anonymous.GetAsync("live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task A_connection_storm_from_one_token_is_refused_with_http_429_before_the_upgrade()
    {
        await using var server = await TestServer.StartAsync(Limit("Connections:PerSubject", 1));
        var token = server.Token("admin", "*");
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, token);
        await using (client)
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            using var cts = new CancellationTokenSource(StreamClient.Timeout);
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(StreamClient.Address(server, "?token=" + Uri.EscapeDataString(token)), cts.Token));
            Assert.Equal(HttpStatusCode.TooManyRequests, socket.HttpStatusCode);
            Assert.True(int.Parse(socket.HttpResponseHeaders!["Retry-After"].Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);

            // The SSE stream shares the connection limit; another subject still connects.
            using var sse = server.Client(token);
            using var refused = await sse.GetAsync("api/v1/stream", HttpCompletionOption.ResponseHeadersRead);
            await AssertLimitedAsync(refused, "connections", "subject", "sub", "AuditStream:RateLimits:Connections:PerSubject");
            var (other, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*", subject: "someone-else"));
            await other.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_acknowledged_event_is_in_the_ledger_and_no_refused_one_is()
    {
        await using var server = await TestServer.StartAsync(Limit("Ingest:PerSubject", 5));
        using var producer = server.Producer();
        var accepted = new List<long>();
        var refused = 0;
        for (var i = 0; i < 12; i++)
        {
            using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(i)));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused++;
                continue;
            }

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            accepted.Add((await Json.ReadAsync(response))["seq"]!.GetValue<long>());
        }

        Assert.Equal(5, accepted.Count);
        Assert.Equal(7, refused);

        // Visible in metrics by class, layer and outcome; no tenant or subject label.
        var scrape = await AuditStream.Server.Tests.Operations.PrometheusScrape.ReadWhenAsync(server, 7, "audit_rate_limit_decisions_total", ("class", "ingest"), ("layer", "subject"), ("outcome", "rejected"));
        Assert.Equal(7, scrape.Value("audit_rate_limit_decisions_total", ("class", "ingest"), ("layer", "subject"), ("outcome", "rejected")));
        Assert.Equal(5, scrape.Value("audit_rate_limit_decisions_total", ("class", "ingest"), ("layer", "subject"), ("outcome", "accepted")));
        Assert.DoesNotContain("acme", string.Join('\n', scrape.Text.Split('\n').Where(l => l.StartsWith("audit_rate_limit", StringComparison.Ordinal))), StringComparison.Ordinal);
        Assert.Equal(accepted.Count, server.Ledger.Head.Size);
        foreach (var seq in accepted)
        {
            Assert.NotNull(await server.Ledger.Store.GetAsync(seq, CancellationToken.None));
        }
    }

    private static async Task AssertLimitedAsync(HttpResponseMessage response, string requestClass, string layer, string field, string key)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
        var problem = await Json.ReadAsync(response);
        Assert.Equal("https://auditstream.dev/problems/rate-limited", problem["type"]!.GetValue<string>());
        Assert.Equal(requestClass, problem["limit"]!["class"]!.GetValue<string>());
        Assert.Equal(layer, problem["limit"]!["layer"]!.GetValue<string>());
        var error = problem["errors"]![0]!;
        Assert.Equal(field, error["field"]!.GetValue<string>());
        Assert.Contains(key, error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
