using System.Text.Json;
using System.Text.Json.Nodes;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>Live delivery through the shared fan-out and its subscription index, checked seq by seq against the ledger.</summary>
public sealed class FanOutTests
{
    private static readonly Dictionary<string, string?> s_unlimited = new()
    {
        ["AuditStream:Hub:RateLimitPerSecond"] = "0",
        ["AuditStream:Hub:RateLimitPerMinute"] = "0",
    };

    // One per filter dimension and a few combinations; every client gets one of these.
    private static readonly string[] s_filters =
    [
        "{}",
        """{"event_types":["auth.failure"]}""",
        """{"event_types":["auth.*","consent.granted"]}""",
        """{"categories":["security"]}""",
        """{"severities":["critical","error"]}""",
        """{"actor_ids":["user-3","user-4"]}""",
        """{"target_ids":["record-5"]}""",
        """{"compliance_only":true}""",
        """{"security_only":true}""",
        """{"match":[{"field":"metadata.region","op":"eq","value":"eu"}]}""",
        """{"event_types":["data.*"],"severities":["warning"]}""",
        """{"categories":["compliance","data"],"match":[{"field":"metadata.n","op":"gt","value":50}]}""",
    ];

    private static readonly (string Role, string Tenant)[] s_scopes =
        [("admin", "*"), ("auditor", "acme"), ("security", "globex"), ("operator", "acme"), ("compliance", "*")];

    private static readonly (string Type, string Category, string Severity)[] s_kinds =
    [
        ("auth.failure", "security", "warning"), ("auth.login", "security", "info"), ("consent.granted", "compliance", "info"),
        ("data.accessed", "data", "info"), ("data.deleted", "data", "warning"), ("security.incident", "security", "critical"),
        ("call.initiated", "call", "error"),
    ];

    [Fact]
    public async Task Clients_with_every_kind_of_filter_receive_exactly_their_matching_seqs_once_in_order_while_producers_write()
    {
        await using var server = await TestServer.StartAsync(s_unlimited);
        var hub = server.Services.GetRequiredService<StreamHub>();
        using var acme = server.Producer("acme");
        using var globex = server.Producer("globex");
        await PostMixAsync(acme, globex, 0, 40);

        // Half connect live before the writing starts; the rest join while it goes on, replaying from seq 0 or a later seq.
        var clients = new List<(StreamClient Client, (string Role, string Tenant) Scope, string Filter, long After)>();
        for (var i = 0; i < 20; i++)
        {
            clients.Add(await ConnectAsync(server, i, sinceSeq: null));
        }

        var writing = Task.Run(async () =>
        {
            for (var batch = 1; batch <= 25; batch++)
            {
                await PostMixAsync(acme, globex, batch * 40, 40);
            }
        });
        for (var i = 20; i < 40; i++)
        {
            clients.Add(await ConnectAsync(server, i, sinceSeq: i % 2 == 0 ? 0 : 17 * i));
        }

        await writing;
        var last = server.Ledger.Head.Size;
        await WaitUntilAsync(() => hub.DispatchedSeq >= last && hub.LiveClientCount == clients.Count);

        var records = new List<LedgerRecord>();
        await foreach (var record in server.Ledger.Store.ReadRangeAsync(1, last, CancellationToken.None))
        {
            records.Add(record);
        }

        foreach (var (client, scope, filter, after) in clients)
        {
            await using var _ = client;
            var accessScope = scope.Tenant == "*" ? AccessScope.ForAllTenants(ParseRole(scope.Role)) : AccessScope.ForTenant(ParseRole(scope.Role), scope.Tenant);
            var compiled = CompiledFilter.Compile(JsonSerializer.Deserialize(filter, StreamFilterJsonContext.Default.StreamFilter)!, TimeProvider.System);
            var expected = records.Where(r => r.Seq > after && accessScope.CanSee(r.Event) && compiled.Matches(r.Event)).Select(r => r.Seq).ToList();

            Assert.Equal(expected, await ReceiveUntilPongAsync(client));
        }
    }

    [Fact]
    public async Task Alerts_reach_exactly_the_roles_of_the_permission_matrix_in_their_tenant_and_never_as_plain_events()
    {
        await using var server = await TestServer.StartAsync(s_unlimited);
        var hub = server.Services.GetRequiredService<StreamHub>();
        var roles = new[] { "admin", "security", "compliance", "operator", "auditor", "user" };
        var clients = new List<(string Role, StreamClient Client)>();
        foreach (var role in roles)
        {
            clients.Add((role, (await StreamClient.ConnectEstablishedAsync(server, server.Token(role, "acme"))).Client));
        }

        var everywhere = (await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"))).Client;
        using var acme = server.Producer("acme");
        var posted = await Json.PostEventsAsync(
            acme,
            Json.Event(1),
            Alert("security", "brute_force", "5 auth.failure for user-1 in 60 s", "[1,2,3]"),
            Alert("compliance", "consent_gap", "consent revoked without erasure", "[4]"),
            Alert("system", "ledger_slow", "commit p99 over 50 ms", "[]"));
        await Json.PostEventsAsync(server.Producer("globex"), Alert("security", "other_tenant", "globex only", "[]", tenant: "globex"));
        var last = server.Ledger.Head.Size;
        await WaitUntilAsync(() => hub.DispatchedSeq >= last);

        foreach (var (role, client) in clients)
        {
            await using var _ = client;
            var types = (await ReceiveUntilPongMessagesAsync(client)).Select(m => m["type"]!.GetValue<string>()).ToList();
            var expected = new List<string>();
            var parsed = ParseRole(role);
            if (RolePermissions.Receives(parsed, MessageKind.AuditEvent))
            {
                expected.Add("audit.event.published");
            }

            foreach (var (kind, type) in new[] { (MessageKind.SecurityAlert, "audit.security.alert"), (MessageKind.ComplianceAlert, "audit.compliance.alert"), (MessageKind.SystemAlert, "audit.system.alert") })
            {
                if (RolePermissions.Receives(parsed, kind))
                {
                    expected.Add(type);
                }
            }

            Assert.Equal(expected, types);
        }

        await using (everywhere)
        {
            var messages = await ReceiveUntilPongMessagesAsync(everywhere);
            Assert.Equal(
                ["audit.event.published", "audit.security.alert", "audit.compliance.alert", "audit.system.alert", "audit.security.alert"],
                messages.Select(m => m["type"]!.GetValue<string>()));
            var bruteForce = messages[1];
            Assert.Equal(posted["events"]![1]!["seq"]!.GetValue<long>(), bruteForce["seq"]!.GetValue<long>());
            Assert.Equal("brute_force", bruteForce["alert"]!["rule"]!.GetValue<string>());
            Assert.Equal("5 auth.failure for user-1 in 60 s", bruteForce["alert"]!["summary"]!.GetValue<string>());
            Assert.Equal("critical", bruteForce["alert"]!["severity"]!.GetValue<string>());
            Assert.Equal([1L, 2L, 3L], bruteForce["alert"]!["related_seqs"]!.AsArray().Select(n => n!.GetValue<long>()));
            Assert.Equal("globex", messages[4]["alert"]!["tenant_id"]!.GetValue<string>());
        }
    }

    private static Role ParseRole(string name) => RoleNames.TryParse(name, out var role) ? role : throw new ArgumentException(name);

    private static string Alert(string category, string rule, string summary, string relatedSeqs, string tenant = "acme") =>
        $"{{\"type\":\"alert.raised\",\"severity\":\"critical\",\"category\":\"{category}\",\"actor_id\":\"rule-engine\",\"target_id\":\"{rule}\",\"action\":\"alert\",\"outcome\":\"success\",\"tenant_id\":\"{tenant}\",\"metadata\":{{\"alert\":{{\"rule\":\"{rule}\",\"summary\":\"{summary}\",\"related_seqs\":{relatedSeqs},\"group_key\":\"g\"}}}}}}";

    private static async Task<(StreamClient, (string, string), string, long)> ConnectAsync(TestServer server, int i, long? sinceSeq)
    {
        var scope = s_scopes[i % s_scopes.Length];
        var filter = s_filters[i % s_filters.Length];
        var query = "&filters=" + Uri.EscapeDataString(filter) + (sinceSeq is { } since ? "&since_seq=" + since : "");
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token(scope.Role, scope.Tenant), query);
        // A since_seq beyond the head starts at the head.
        var head = established["last_seq"]!.GetValue<long>();
        return (client, scope, filter, Math.Min(sinceSeq ?? head, head));
    }

    private static async Task PostMixAsync(HttpClient acme, HttpClient globex, int start, int count)
    {
        string Make(int n, string tenant)
        {
            var (type, category, severity) = s_kinds[n % s_kinds.Length];
            var region = n % 3 == 0 ? "eu" : "us";
            return Json.Event(n % 10, type, severity, category, $$"""
                "tenant_id":"{{tenant}}","metadata":{"region":"{{region}}","n":{{n % 100}}}
                """.Trim());
        }

        await Task.WhenAll(
            Json.PostEventsAsync(acme, [.. Enumerable.Range(start, count / 2).Select(n => Make(n, "acme"))]),
            Json.PostEventsAsync(globex, [.. Enumerable.Range(start + count / 2, count / 2).Select(n => Make(n, "globex"))]));
    }

    /// <summary>Every published seq up to the answer to a ping sent once delivery is level with the ledger.</summary>
    private static async Task<List<long>> ReceiveUntilPongAsync(StreamClient client) =>
        [.. (await ReceiveUntilPongMessagesAsync(client)).Where(m => m["type"]!.GetValue<string>() == "audit.event.published").Select(m => m["seq"]!.GetValue<long>())];

    private static async Task<List<JsonNode>> ReceiveUntilPongMessagesAsync(StreamClient client)
    {
        await client.SendAsync("""{"type":"ping"}""");
        var messages = new List<JsonNode>();
        while (await client.ReceiveAsync() is var message && message["type"]!.GetValue<string>() != "audit.connection.pong")
        {
            if (message["type"]!.GetValue<string>() != "audit.stream.caught_up")
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(StreamClient.Timeout);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
