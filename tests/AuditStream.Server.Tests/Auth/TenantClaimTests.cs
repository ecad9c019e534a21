using System.Net;
using System.Net.WebSockets;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Auth;

/// <summary>A token must name one tenant or grant all of them; anything else is refused on every path (issue 13, item 4).</summary>
public sealed class TenantClaimTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string> BadTenants() => new()
    {
        { "missing", "is missing" },
        { "", "must not be empty" },
        { " ", "must not be empty" },
        { "*", "may not be '*'" },
    };

    private string TokenFor(string tenant, string role)
    {
        var claims = new Dictionary<string, object> { ["role"] = role, ["sub"] = "probe", ["scope"] = "audit:write" };
        if (tenant != "missing")
        {
            claims["tenant"] = tenant;
        }

        return _server.TokenWithClaims(claims);
    }

    [Theory]
    [MemberData(nameof(BadTenants))]
    public async Task A_token_without_a_valid_tenant_is_refused_403_naming_the_claim_on_every_path(string tenant, string reason)
    {
        using var seed = _server.Producer();
        await Json.PostEventsAsync(seed, Json.Event(1));

        foreach (var role in new[] { "operator", "admin" })
        {
            using var client = _server.Client(TokenFor(tenant, role));
            using var post = await client.PostAsync("api/v1/events", Json.Content(Json.Event(2)));
            await AssertRefusedAsync(post, reason);
            foreach (var path in new[]
            {
                "api/v1/events", "api/v1/events/1", "api/v1/events/export", "api/v1/ledger/proofs/inclusion?seq=1",
                "api/v1/ledger/proofs/consistency?from=1&to=1", "api/v1/stream", "debug/websocket/audit/stats", "api/v1/sinks",
            })
            {
                using var response = await client.GetAsync(path);
                await AssertRefusedAsync(response, reason, path);
            }

            var refused = await Assert.ThrowsAsync<WebSocketException>(() => StreamClient.ConnectAsync(StreamClient.Address(_server, "?token=" + TokenFor(tenant, role))));
            Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_token_for_every_tenant_names_each_events_tenant()
    {
        using var admin = _server.Client(_server.Token("admin", "*", ["audit:write"]));
        using var unnamed = await admin.PostAsync("api/v1/events", Json.Content($"[{Json.Event(1, extra: "\"tenant_id\":\"acme\"")},{Json.Event(2)}]"));
        Assert.Equal(HttpStatusCode.BadRequest, unnamed.StatusCode);
        var error = Assert.Single((await Json.ReadAsync(unnamed))["errors"]!.AsArray())!;
        Assert.Equal(1, error["index"]!.GetValue<int>());
        Assert.Equal("tenant_id", error["field"]!.GetValue<string>());
        Assert.Equal(0, _server.Ledger.Head.Size);

        using var named = await admin.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: "\"tenant_id\":\"beta\"")));
        Assert.Equal(HttpStatusCode.Created, named.StatusCode);
    }

    [Fact]
    public async Task Token_issue_without_a_tenant_fails_saying_so()
    {
        var data = Path.Combine(Path.GetTempPath(), "auditstream-cli-tests", Guid.NewGuid().ToString("N"));
        var missing = await Support.Cli.RunAsync(null, "token", "issue", "--role", "auditor", "--data", data);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("--tenant", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal("", missing.Stdout.Trim());

        var blank = await Support.Cli.RunAsync(null, "token", "issue", "--role", "auditor", "--tenant", "", "--data", data);
        Assert.NotEqual(0, blank.ExitCode);
        Assert.Contains("--tenant must name a tenant", blank.Stderr, StringComparison.Ordinal);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string reason, string path = "POST api/v1/events")
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)response.StatusCode} {body}");
        // Other rules may fail too (an operator on an admin endpoint); the tenant one is named with its reason.
        var error = Assert.Single(System.Text.Json.Nodes.JsonNode.Parse(body)!["errors"]!.AsArray(), e => e!["field"]!.GetValue<string>() == "tenant")!;
        Assert.True(error["rule"]!.GetValue<string>().StartsWith(reason, StringComparison.Ordinal), $"{path}: the problem does not say \"{reason}\": {body}");
    }
}
