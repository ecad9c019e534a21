using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Auth;

/// <summary>
/// Attribute rules (AuditStream:Authorization:Rules) over real Kestrel: a department limited to category security sees
/// only those events of its own tenant on every read path (query, single reads, export, WebSocket and SSE, replayed and
/// live, proofs), is denied by default without a rule, and the explain endpoint names the deciding rule.
/// </summary>
public sealed class AttributeRulesTests : IAsyncLifetime
{
    private TestServer _server = null!;

    // acme: 1 security, 2 data, 3 security critical; globex: 4 security, 5 data.
    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Authorization:Rules:0:Name"] = "security-department",
            ["AuditStream:Authorization:Rules:0:Actions:0"] = "query",
            ["AuditStream:Authorization:Rules:0:Actions:1"] = "export",
            ["AuditStream:Authorization:Rules:0:Actions:2"] = "subscribe",
            ["AuditStream:Authorization:Rules:0:Actions:3"] = "proof",
            ["AuditStream:Authorization:Rules:0:Subject:department:0"] = "security",
            ["AuditStream:Authorization:Rules:0:Resource:category:0"] = "security",
            ["AuditStream:Authorization:Rules:1:Name"] = "auditors-everything",
            ["AuditStream:Authorization:Rules:1:Actions:0"] = "*",
            ["AuditStream:Authorization:Rules:1:Subject:role:0"] = "auditor",
            ["AuditStream:Authorization:Rules:2:Name"] = "interns-no-critical",
            ["AuditStream:Authorization:Rules:2:Effect"] = "deny",
            ["AuditStream:Authorization:Rules:2:Actions:0"] = "*",
            ["AuditStream:Authorization:Rules:2:Subject:groups:0"] = "interns",
            ["AuditStream:Authorization:Rules:2:Resource:severity:0"] = "critical",
            ["AuditStream:Authorization:Rules:3:Name"] = "platform-admins-sinks",
            ["AuditStream:Authorization:Rules:3:Actions:0"] = "sinks-admin",
            ["AuditStream:Authorization:Rules:3:Subject:role:0"] = "admin",
            ["AuditStream:Authorization:Rules:3:Subject:department:0"] = "platform",
            ["AuditStream:Authorization:Rules:4:Name"] = "risk-reads-everything",
            ["AuditStream:Authorization:Rules:4:Actions:0"] = "query",
            ["AuditStream:Authorization:Rules:4:Actions:1"] = "export",
            ["AuditStream:Authorization:Rules:4:Subject:department:0"] = "risk",
            ["AuditStream:Authorization:Rules:5:Name"] = "risk-proves-security",
            ["AuditStream:Authorization:Rules:5:Actions:0"] = "proof",
            ["AuditStream:Authorization:Rules:5:Subject:department:0"] = "risk",
            ["AuditStream:Authorization:Rules:5:Resource:category:0"] = "security",
            ["AuditStream:Authorization:Rules:6:Name"] = "reporting-reads-no-proofs",
            ["AuditStream:Authorization:Rules:6:Actions:0"] = "query",
            ["AuditStream:Authorization:Rules:6:Actions:1"] = "export",
            ["AuditStream:Authorization:Rules:6:Subject:department:0"] = "reporting",
        });
        await Json.PostEventsAsync(_server.Producer("acme"),
            Json.Event(1, "auth.failure", category: "security"), Json.Event(2), Json.Event(3, "security.incident", "critical", "security"));
        await Json.PostEventsAsync(_server.Producer("globex"), Json.Event(4, "auth.failure", category: "security"), Json.Event(5));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Token(string role, string tenant, string? department = null, string[]? groups = null)
    {
        var claims = new Dictionary<string, object> { ["role"] = role, ["sub"] = $"{role}-{department}", [tenant == "*" ? "tenants" : "tenant"] = tenant };
        if (department is not null)
        {
            claims["department"] = department;
        }

        if (groups is not null)
        {
            claims["groups"] = groups;
        }

        return _server.TokenWithClaims(claims);
    }

    private string SecurityDepartment => Token("security", "acme", "security");

    private static long[] Seqs(JsonNode page) => [.. page["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>())];

    [Fact]
    public async Task A_department_limited_to_security_queries_only_its_tenants_security_events()
    {
        using var client = _server.Client(SecurityDepartment);
        Assert.Equal(new long[] { 1, 3 }, Seqs(await Json.ReadAsync(await client.GetAsync("api/v1/events"))));

        // Small pages still fill with allowed events, and the cursor moves past hidden ones.
        var first = await Json.ReadAsync(await client.GetAsync("api/v1/events?limit=1"));
        Assert.Equal([1L], Seqs(first));
        var second = await Json.ReadAsync(await client.GetAsync(first["next"]!.GetValue<string>().TrimStart('/')));
        Assert.Equal([3L], Seqs(second));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/events/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/events/2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/events/4")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/events/2?proof=true")).StatusCode);
    }

    [Fact]
    public async Task The_export_holds_only_the_events_the_rules_allow()
    {
        using var client = _server.Client(SecurityDepartment);
        var ndjson = await client.GetStringAsync("api/v1/events/export");
        var seqs = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["seq"]!.GetValue<long>());
        Assert.Equal([1L, 3L], seqs);
        var csv = await client.GetStringAsync("api/v1/events/export?format=csv");
        Assert.Equal(3, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("globex", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_websocket_replays_and_delivers_live_only_allowed_events()
    {
        var (socket, _) = await StreamClient.ConnectEstablishedAsync(_server, SecurityDepartment, "&since_seq=0");
        await using (socket)
        {
            Assert.Equal([1L, 3L], await socket.ReceiveSeqsThroughAsync(3));
            Assert.Equal("audit.stream.caught_up", (await socket.ReceiveAsync())["type"]!.GetValue<string>());

            // Live: another tenant's security event, this tenant's data event, then this tenant's security event (seq 8).
            await Json.PostEventsAsync(_server.Producer("globex"), Json.Event(6, "auth.failure", category: "security"));
            await Json.PostEventsAsync(_server.Producer("acme"), Json.Event(7), Json.Event(8, "auth.failure", category: "security"));
            Assert.Equal([8L], await socket.ReceiveSeqsThroughAsync(8));
        }
    }

    [Fact]
    public async Task The_event_stream_delivers_only_allowed_events()
    {
        await using var sse = await EventStreamClient.ConnectEstablishedAsync(_server, SecurityDepartment, "?since_seq=0");
        Assert.Equal([1L, 3L], await sse.ReceiveSeqsThroughAsync(3));
    }

    [Fact]
    public async Task Without_a_rule_for_the_department_every_read_path_is_denied_by_default_naming_the_rule()
    {
        var sales = Token("security", "acme", "sales");
        using var client = _server.Client(sales);
        foreach (var path in new[] { "api/v1/events", "api/v1/events/1", "api/v1/events/export", "api/v1/ledger/proofs/inclusion?seq=1" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
            Assert.Equal("rule", error["field"]!.GetValue<string>());
            Assert.StartsWith("default_deny: ", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        await using var sse = await EventStreamClient.ConnectAsync(_server, sales);
        Assert.Equal(HttpStatusCode.Forbidden, sse.Response.StatusCode);
        var problem = JsonNode.Parse(await sse.ReadBodyAsync())!;
        Assert.StartsWith("default_deny: ", problem["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);

        var refused = await Assert.ThrowsAnyAsync<System.Net.WebSockets.WebSocketException>(() => StreamClient.ConnectAsync(_server, sales));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proofs_are_given_only_for_events_the_rules_and_tenant_show()
    {
        using var client = _server.Client(SecurityDepartment);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/ledger/proofs/inclusion?seq=1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/ledger/proofs/inclusion?seq=2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/ledger/proofs/inclusion?seq=4")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/events/1?proof=true")).StatusCode);
    }

    [Fact]
    public async Task A_page_or_export_with_proofs_holds_only_the_events_the_proof_rules_show()
    {
        // risk queries and exports every event of its tenant but proves only security ones (seqs 1 and 3, not 2).
        using var risk = _server.Client(Token("security", "acme", "risk"));
        Assert.Equal(new long[] { 1, 2, 3 }, Seqs(await Json.ReadAsync(await risk.GetAsync("api/v1/events"))));
        Assert.Equal(HttpStatusCode.NotFound, (await risk.GetAsync("api/v1/events/2?proof=true")).StatusCode);

        var page = await Json.ReadAsync(await risk.GetAsync("api/v1/events?proof=true"));
        Assert.Equal(new long[] { 1, 3 }, Seqs(page));
        Assert.Equal(new long[] { 0, 2 }, page["proofs"]!.AsArray().Select(p => p!["leaf_index"]!.GetValue<long>()).ToArray());

        // Small pages fill with provable events, as they fill with visible ones.
        var first = await Json.ReadAsync(await risk.GetAsync("api/v1/events?proof=true&limit=1"));
        Assert.Equal([1L], Seqs(first));
        var second = await Json.ReadAsync(await risk.GetAsync(first["next"]!.GetValue<string>().TrimStart('/')));
        Assert.Equal([3L], Seqs(second));

        var lines = (await risk.GetStringAsync("api/v1/events/export?proofs=true"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).Skip(1);
        Assert.Equal([1L, 3L], lines.Select(l => l["event"]!["seq"]!.GetValue<long>()));

        // Without proofs the export still holds all three.
        var plain = (await risk.GetStringAsync("api/v1/events/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, plain.Length);
    }

    [Fact]
    public async Task A_caller_the_proof_rules_refuse_gets_403_naming_the_rule_for_proofs_on_every_read()
    {
        using var reporting = _server.Client(Token("security", "acme", "reporting"));
        Assert.Equal(HttpStatusCode.OK, (await reporting.GetAsync("api/v1/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reporting.GetAsync("api/v1/events/1")).StatusCode);
        foreach (var path in new[] { "api/v1/events?proof=true", "api/v1/events/1?proof=true", "api/v1/events/export?proofs=true" })
        {
            using var response = await reporting.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
            Assert.Equal("rule", error["field"]!.GetValue<string>());
            Assert.StartsWith("default_deny: ", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_deny_rule_wins_over_an_allow_for_a_group()
    {
        using var intern = _server.Client(Token("auditor", "acme", groups: ["staff", "interns"]));
        Assert.Equal(new long[] { 1, 2 }, Seqs(await Json.ReadAsync(await intern.GetAsync("api/v1/events"))));
        using var auditor = _server.Client(Token("auditor", "acme", groups: ["staff"]));
        Assert.Equal(new long[] { 1, 2, 3 }, Seqs(await Json.ReadAsync(await auditor.GetAsync("api/v1/events"))));
    }

    [Fact]
    public async Task Sink_admin_needs_a_rule_too()
    {
        using var platform = _server.Client(Token("admin", "*", "platform"));
        Assert.Equal(HttpStatusCode.OK, (await platform.GetAsync("api/v1/sinks")).StatusCode);
        using var other = _server.Client(Token("admin", "*", "finance"));
        using var response = await other.GetAsync("api/v1/sinks");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("default_deny: ", (await Json.ReadAsync(response))["errors"]![0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_names_the_rule_that_allows_or_denies_an_event()
    {
        using var client = _server.Client(SecurityDepartment);
        var allowed = await Json.ReadAsync(await client.GetAsync("api/v1/authz/explain?action=query&seq=1"));
        Assert.True(allowed["allowed"]!.GetValue<bool>());
        Assert.Equal("security-department", allowed["rule"]!.GetValue<string>());
        Assert.Equal("security", allowed["resource"]!["category"]!.GetValue<string>());

        var denied = await Json.ReadAsync(await client.GetAsync("api/v1/authz/explain?action=export&seq=2"));
        Assert.False(denied["allowed"]!.GetValue<bool>());
        Assert.Equal("default_deny", denied["rule"]!.GetValue<string>());
        Assert.Null(denied["resource"]);
        var trace = denied["checks"]!.AsArray().Select(c => (c!["rule"]!.GetValue<string>(), c["outcome"]!.GetValue<string>())).ToList();
        Assert.Contains(("security-department", "not_matched"), trace);
        Assert.Contains(("auditors-everything", "not_applicable"), trace);

        // Another tenant's event is not described, exactly as it is not readable.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("api/v1/authz/explain?action=query&seq=4")).StatusCode);

        var intern = await Json.ReadAsync(await _server.Client(Token("auditor", "acme", groups: ["interns"])).GetAsync("api/v1/authz/explain?action=subscribe&seq=3"));
        Assert.Equal("interns-no-critical", intern["rule"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_admin_explains_another_subject_and_nobody_else_may()
    {
        using var admin = _server.Client(Token("admin", "acme"));
        var sales = await Json.ReadAsync(await admin.GetAsync(
            "api/v1/authz/explain?action=query&resource.category=security&subject.role=security&subject.tenant=acme&subject.department=sales"));
        Assert.False(sales["allowed"]!.GetValue<bool>());
        Assert.Equal("default_deny", sales["rule"]!.GetValue<string>());
        Assert.Equal("sales", sales["subject"]!["department"]![0]!.GetValue<string>());

        var otherTenant = await Json.ReadAsync(await admin.GetAsync(
            "api/v1/authz/explain?action=query&seq=1&subject.role=security&subject.tenant=globex&subject.department=security"));
        Assert.Equal("tenant_isolation", otherTenant["rule"]!.GetValue<string>());

        var user = await Json.ReadAsync(await admin.GetAsync("api/v1/authz/explain?action=query&subject.role=user&subject.tenant=acme"));
        Assert.Equal("role_permissions", user["rule"]!.GetValue<string>());

        using var security = _server.Client(SecurityDepartment);
        using var refused = await security.GetAsync("api/v1/authz/explain?action=query&subject.department=platform");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("subject.department", (await Json.ReadAsync(refused))["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_rule_that_does_not_compile_stops_the_start_naming_its_key()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Authorization:Rules:0:Name"] = "typo",
            ["AuditStream:Authorization:Rules:0:Actions:0"] = "query",
            ["AuditStream:Authorization:Rules:0:Resource:categroy:0"] = "security",
        }));
        Assert.Contains("AuditStream:Authorization:Rules:0:Resource:categroy must be an event field", failure.ToString(), StringComparison.Ordinal);
    }
}
