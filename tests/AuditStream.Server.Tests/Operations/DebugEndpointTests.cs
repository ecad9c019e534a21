using System.Net;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Operations;

public sealed class DebugEndpointTests
{
    private static readonly string[] s_paths = ["stats", "metrics", "clients", "config"];

    [Fact]
    public async Task Debug_endpoints_are_401_without_a_token_and_403_for_every_role_but_admin()
    {
        await using var server = await TestServer.StartAsync();
        using var anonymous = server.Client();
        foreach (var path in s_paths)
        {
            using var response = await anonymous.GetAsync($"debug/websocket/audit/{path}");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        foreach (var role in (string[])["security", "compliance", "operator", "auditor", "user"])
        {
            using var client = server.Reader(role, "*");
            foreach (var path in s_paths)
            {
                using var response = await client.GetAsync($"debug/websocket/audit/{path}");
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            }
        }
    }

    [Fact]
    public async Task Admin_sees_stats_metrics_and_the_connected_clients_paged()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.Reader("admin", "*");
        var (first, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("security", "acme"), "&event_types=auth.login");
        var (second, secondEstablished) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "globex"));
        await using (first)
        await using (second)
        {
            var stats = await Json.ReadAsync(await admin.GetAsync("debug/websocket/audit/stats"));
            Assert.Equal(2, stats["connections"]!["active"]!.GetValue<long>());
            Assert.True(stats["connections"]!["peak"]!.GetValue<long>() >= 2);
            Assert.Equal(2000, stats["connections"]!["max_clients"]!.GetValue<int>());
            Assert.Equal(100, stats["connections"]!["max_clients_per_subject"]!.GetValue<int>());
            Assert.Equal(200, stats["connections"]!["max_clients_per_address"]!.GetValue<int>());
            Assert.Equal(100, stats["connections"]!["reserved_privileged_clients"]!.GetValue<int>());
            Assert.Equal(0, stats["connections"]!["refused_by_reason"]!["max_clients_per_subject"]!.GetValue<long>());
            Assert.True(stats["uptime_seconds"]!.GetValue<double>() > 0);
            Assert.NotNull(stats["rates"]!["events_published_per_second"]);
            Assert.Equal(server.Ledger.Head.Size, stats["ledger"]!["tree_size"]!.GetValue<long>());

            var metrics = await Json.ReadAsync(await admin.GetAsync("debug/websocket/audit/metrics"));
            Assert.Equal(2, metrics["connections_active"]!.GetValue<long>());
            Assert.True(metrics["connects"]!.GetValue<long>() >= 2);
            Assert.NotNull(metrics["dropped_by_reason"]!["rate_limited"]);

            var page = await Json.ReadAsync(await admin.GetAsync("debug/websocket/audit/clients?page_size=1"));
            Assert.Equal(2, page["total"]!.GetValue<int>());
            Assert.Single(page["clients"]!.AsArray());
            var client = page["clients"]![0]!;
            Assert.Equal("security", client["role"]!.GetValue<string>());
            Assert.Equal("acme", client["tenant_id"]!.GetValue<string>());
            Assert.Equal("127.0.0.1", client["remote_address"]!.GetValue<string>());
            Assert.Equal("websocket", client["transport"]!.GetValue<string>());
            Assert.Equal("auth.login", client["filters"]!["event_types"]![0]!.GetValue<string>());
            Assert.Equal("/debug/websocket/audit/clients?page=2&page_size=1", page["next"]!.GetValue<string>());

            var next = await Json.ReadAsync(await admin.GetAsync(page["next"]!.GetValue<string>().TrimStart('/')));
            Assert.Equal(secondEstablished["client_id"]!.GetValue<string>(), next["clients"]![0]!["client_id"]!.GetValue<string>());
            Assert.Null(next["next"]);

            using var bad = await admin.GetAsync("debug/websocket/audit/clients?page_size=0");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("page_size", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_admin_of_one_tenant_sees_only_that_tenant_s_clients_and_is_refused_the_server_wide_views()
    {
        await using var server = await TestServer.StartAsync();
        var (acme, acmeEstablished) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "&event_types=consent.granted");
        var (beta, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("security", "beta"), "&actor_ids=beta-secret-actor");
        var (everyone, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using (acme)
        await using (beta)
        await using (everyone)
        {
            using var acmeAdmin = server.Reader("admin", "acme");
            using var response = await acmeAdmin.GetAsync("debug/websocket/audit/clients");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = System.Text.Json.Nodes.JsonNode.Parse(body)!;
            Assert.Equal(1, page["total"]!.GetValue<int>());
            Assert.Equal(acmeEstablished["client_id"]!.GetValue<string>(), Assert.Single(page["clients"]!.AsArray())!["client_id"]!.GetValue<string>());
            Assert.DoesNotContain("beta", body, StringComparison.Ordinal);

            foreach (var path in (string[])["stats", "metrics", "config"])
            {
                using var refused = await acmeAdmin.GetAsync($"debug/websocket/audit/{path}");
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Equal("tenants", (await Json.ReadAsync(refused))["errors"]![0]!["field"]!.GetValue<string>());
            }

            using var allTenants = server.Reader("admin", "*");
            Assert.Equal(3, (await Json.ReadAsync(await allTenants.GetAsync("debug/websocket/audit/clients")))["total"]!.GetValue<int>());
        }
    }

    [Fact]
    public async Task Stats_report_the_server_start_as_started_at_not_the_first_request_for_them()
    {
        var before = DateTimeOffset.UtcNow;
        await using var server = await TestServer.StartAsync();
        var started = DateTimeOffset.UtcNow;
        using var admin = server.Reader("admin", "*");

        var stats = await Json.ReadAsync(await admin.GetAsync("debug/websocket/audit/stats"));

        Assert.InRange(stats["started_at"]!.GetValue<DateTimeOffset>(), before, started);
    }

    [Fact]
    public async Task Admin_sees_the_effective_configuration_with_secrets_redacted()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Hub:MaxClients"] = "42" });
        using var admin = server.Reader("admin", "*");
        var text = await admin.GetStringAsync("debug/websocket/audit/config");
        var config = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        var values = config["values"]!;
        Assert.Equal("42", values["AuditStream:Hub:MaxClients"]!.GetValue<string>());
        Assert.Equal("4096", values["AuditStream:Hub:ClientBufferSize"]!.GetValue<string>());
        Assert.Equal("00:00:30", values["AuditStream:Hub:PingInterval"]!.GetValue<string>());
        Assert.Equal("***", values["AuditStream:Auth:SigningKey"]!.GetValue<string>());
        Assert.DoesNotContain(Convert.ToBase64String(server.Secret), text, StringComparison.Ordinal);
        Assert.NotNull(config["environment"]);
    }
}
