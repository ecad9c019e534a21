using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Reads;

public sealed class EventQueryTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();

        // 40 events with known attributes: seq i (1-based) = index i-1.
        using var client = _server.Client(_server.Token("admin", "*", ["audit:write"]));
        var events = Enumerable.Range(0, 40).Select(i =>
        {
            var (type, category) = (i % 4) switch
            {
                0 => ("auth.failure", "security"),
                1 => ("consent.granted", "compliance"),
                2 => ("data.accessed", "data"),
                _ => ("call.initiated", "call"),
            };
            var severity = i % 5 == 0 ? "critical" : "info";
            var tenant = i < 30 ? "acme" : "globex";
            return $$"""{"type":"{{type}}","severity":"{{severity}}","category":"{{category}}","actor_id":"actor-{{i % 3}}","target_id":"target-{{i % 7}}","tenant_id":"{{tenant}}","metadata":{"region":"{{(i % 2 == 0 ? "eu" : "us")}}","amount":{{i * 10}}},"pii":{"email":"u{{i}}@example.com"},"subject_id":"subject-{{i}}"}""";
        }).ToArray();
        await Json.PostEventsAsync(client, events);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<long[]> SeqsAsync(string query, string role = "admin", string tenant = "*")
    {
        using var client = _server.Reader(role, tenant);
        using var response = await client.GetAsync("api/v1/events?limit=1000&" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await Json.ReadAsync(response);
        return body["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
    }

    private static long[] Where(Func<int, bool> predicate) => Enumerable.Range(0, 40).Where(predicate).Select(i => (long)i + 1).ToArray();

    [Theory]
    [InlineData("event_types=auth.failure", "type0")]
    [InlineData("event_types=auth.failure,data.accessed", "type02")]
    [InlineData("severities=critical", "critical")]
    [InlineData("categories=compliance", "compliance")]
    [InlineData("actor_ids=actor-1", "actor1")]
    [InlineData("target_ids=target-3,target-4", "target34")]
    [InlineData("compliance_only=true", "complianceOnly")]
    [InlineData("security_only=true", "securityOnly")]
    [InlineData("match=metadata.region:eq:eu", "eu")]
    [InlineData("match=metadata.amount:gt:250", "amount")]
    [InlineData("event_types=auth.failure&severities=critical", "and")]
    [InlineData("since_seq=35", "since")]
    public async Task Each_filter_returns_exactly_the_matching_events(string query, string expectation)
    {
        var expected = expectation switch
        {
            "type0" => Where(i => i % 4 == 0),
            "type02" => Where(i => i % 4 is 0 or 2),
            "critical" => Where(i => i % 5 == 0),
            "compliance" => Where(i => i % 4 == 1),
            "actor1" => Where(i => i % 3 == 1),
            "target34" => Where(i => i % 7 is 3 or 4),

            // consent.* → gdpr,tcpa; data.* → gdpr; call.* → tcpa: only auth.failure events have no tag.
            "complianceOnly" => Where(i => i % 4 != 0),
            "securityOnly" => Where(i => i % 4 == 0),
            "eu" => Where(i => i % 2 == 0),
            "amount" => Where(i => i * 10 > 250),
            "and" => Where(i => i % 4 == 0 && i % 5 == 0),
            "since" => Where(i => i + 1 > 35),
            _ => throw new ArgumentOutOfRangeException(nameof(expectation)),
        };
        Assert.Equal(expected, await SeqsAsync(query));
    }

    [Fact]
    public async Task Time_range_filters_select_by_commit_time()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(40, (await SeqsAsync("relative=1h")).Length);
        Assert.Equal(40, (await SeqsAsync($"start={Uri.EscapeDataString(now.AddMinutes(-5).ToString("O"))}")).Length);
        Assert.Empty(await SeqsAsync($"start={Uri.EscapeDataString(now.AddMinutes(5).ToString("O"))}"));
        Assert.Empty(await SeqsAsync($"end={Uri.EscapeDataString(now.AddMinutes(-5).ToString("O"))}"));
    }

    [Fact]
    public async Task Invalid_query_parameters_are_a_400_naming_each()
    {
        using var client = _server.Reader();
        using var response = await client.GetAsync("api/v1/events?severities=fatal&limit=0&since_seq=x&relative=2h");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var fields = (await Json.ReadAsync(response))["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()).ToList();
        Assert.Contains("limit", fields);
        Assert.Contains("since_seq", fields);
        Assert.Contains(fields, f => f.StartsWith("filters.severities", StringComparison.Ordinal));
        Assert.Contains(fields, f => f.StartsWith("filters.relative", StringComparison.Ordinal) || f.StartsWith("filters.time_range", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tenant_token_sees_only_its_tenant_and_pii_is_masked_for_roles_that_may_not_read_it()
    {
        Assert.Equal(Where(i => i < 30), await SeqsAsync("", "auditor", "acme"));
        Assert.Equal(Where(i => i >= 30), await SeqsAsync("", "auditor", "globex"));

        using var auditor = _server.Reader("auditor", "acme");
        var masked = await Json.ReadAsync(await auditor.GetAsync("api/v1/events/1"));
        Assert.Equal("[masked]", masked["pii"]!.GetValue<string>());
        using var compliance = _server.Reader("compliance", "acme");
        var clear = await Json.ReadAsync(await compliance.GetAsync("api/v1/events/1"));
        Assert.Equal("u0@example.com", clear["pii"]!["email"]!.GetValue<string>());

        // Another tenant's event is not found rather than forbidden: its existence is not disclosed.
        using var other = await auditor.GetAsync("api/v1/events/35");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task Pages_follow_next_links_to_the_end_without_gap_or_duplicate_while_events_are_ingested()
    {
        using var producer = _server.Producer();
        using var cts = new CancellationTokenSource();
        var ingesting = Task.Run(async () =>
        {
            var n = 1000;
            while (!cts.IsCancellationRequested)
            {
                await Json.PostEventsAsync(producer, Json.Event(n++, type: "auth.failure", category: "security"), Json.Event(n++));
            }
        });

        using var reader = _server.Reader();
        var seen = new List<long>();
        var url = "api/v1/events?limit=7&event_types=auth.failure";
        var pages = 0;
        while (true)
        {
            var body = await Json.ReadAsync(await reader.GetAsync(url.TrimStart('/')));
            var events = body["events"]!.AsArray();
            seen.AddRange(events.Select(e => e!["seq"]!.GetValue<long>()));
            pages++;
            if (body["next"]?.GetValue<string>() is { } next)
            {
                url = next;
                continue;
            }

            // At the end: keep polling from the cursor while producers write, then once more after they stop.
            if (!cts.IsCancellationRequested && pages >= 10)
            {
                await cts.CancelAsync();
                await ingesting;
            }
            else if (cts.IsCancellationRequested && events.Count == 0)
            {
                break;
            }

            url = $"api/v1/events?limit=7&event_types=auth.failure&since_seq={body["cursor"]!.GetValue<long>()}";
        }

        Assert.True(pages >= 10, $"only {pages} pages");
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(), seen);

        // Every auth.failure event the ledger now holds, and nothing else.
        var all = new List<long>();
        for (long seq = 1; seq <= _server.Ledger.Head.Size; seq++)
        {
            var record = await _server.Ledger.Store.GetAsync(seq, CancellationToken.None);
            if (record!.Event.Type == "auth.failure")
            {
                all.Add(seq);
            }
        }

        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task Reads_need_a_role_that_receives_audit_events()
    {
        using var user = _server.Reader("user", "acme");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("api/v1/events")).StatusCode);
        foreach (var role in new[] { "admin", "security", "compliance", "operator", "auditor" })
        {
            using var client = _server.Reader(role, "acme");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/events")).StatusCode);
        }
    }
}
