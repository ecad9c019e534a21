using System.Text.Json;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.PagerDuty;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.PagerDuty;

public sealed class PagerDutySinkTests : SinkConformanceTests
{
    private Action<PagerDutyOptions>? _tweak;

    protected override (IAuditSink Sink, SinkOptions Options) Create(Uri receiver, Action<SinkOptions> configure)
    {
        var options = new PagerDutyOptions
        {
            RoutingKey = "R0UT1NGKEY0000000000000000000000",
            EventsUrl = new Uri(receiver, "v2/enqueue"),
            StartAt = SinkStart.Beginning,
            PageSeverities = ["critical", "error", "warning", "info"],
            EventLinkBase = new Uri("https://audit.example.com/"),
        };
        configure(options);
        _tweak?.Invoke(options);
        return (new PagerDutySink(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, TimeProvider.System), options);
    }

    protected override IReadOnlyList<Guid> EventIds(ReceivedRequest request)
    {
        using var json = JsonDocument.Parse(request.Body);
        return json.RootElement.TryGetProperty("payload", out var payload) ? [payload.GetProperty("custom_details").GetProperty("id").GetGuid()] : [];
    }

    protected override Reply AcceptedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        new(202, """{"status":"success","message":"Event processed","dedup_key":"x"}""");

    protected override (Reply Reply, IReadOnlyList<Guid> Accepted) RefusedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        (new Reply(400, """{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'summary' is incorrect"]}"""), []);

    [Fact]
    public async Task Critical_event_triggers_with_its_id_as_dedup_key_severity_details_and_links()
    {
        _tweak = o => o.PageSeverities = ["critical"];
        var events = await Fixture.AppendAsync(3);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 3);

        var request = Assert.Single(Receiver.Requests);
        Assert.Equal("/v2/enqueue", request.Path);
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("R0UT1NGKEY0000000000000000000000", body.GetProperty("routing_key").GetString());
        Assert.Equal("trigger", body.GetProperty("event_action").GetString());
        Assert.Equal("auditstream/event/" + events[0].Id, body.GetProperty("dedup_key").GetString());
        var payload = body.GetProperty("payload");
        Assert.Equal("[critical] auth.failure: user-0 read customer_record record-0 (failure)", payload.GetProperty("summary").GetString());
        Assert.Equal("billing-api", payload.GetProperty("source").GetString());
        Assert.Equal("critical", payload.GetProperty("severity").GetString());
        Assert.Equal("customer_record", payload.GetProperty("component").GetString());
        Assert.Equal("acme", payload.GetProperty("group").GetString());
        Assert.Equal("security/auth.failure", payload.GetProperty("class").GetString());
        Assert.Equal(1, payload.GetProperty("custom_details").GetProperty("seq").GetInt64());
        Assert.Equal("https://audit.example.com/api/v1/events/1", body.GetProperty("links")[0].GetProperty("href").GetString());
        Assert.Equal("AuditStream", body.GetProperty("client").GetString());
    }

    [Fact]
    public async Task Alert_raised_triggers_and_alert_resolved_resolves_the_same_incident()
    {
        _tweak = o => o.PageSeverities = [];
        var info = new AlertInfo("auth-failures", "5 auth.failure from user-1 within 60 s", [3, 4, 5, 6, 7], "user-1");
        await Fixture.AppendAsync(3, i => LedgerFixture.Event(1) with
        {
            Type = i switch { 0 => "data.accessed", 1 => AlertInfo.RaisedType, _ => AlertInfo.ResolvedType },
            Category = i == 0 ? "data" : "security",
            Severity = i == 0 ? "critical" : "error",
            Metadata = i == 0 ? null : info.ToMetadata(),
        });
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 3);

        var bodies = Receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Equal(["trigger", "resolve"], bodies.Select(b => b.GetProperty("event_action").GetString()));
        Assert.All(bodies, b => Assert.Equal("auditstream/auth-failures@acme/user-1", b.GetProperty("dedup_key").GetString()));
        Assert.Equal("5 auth.failure from user-1 within 60 s", bodies[0].GetProperty("payload").GetProperty("summary").GetString());
        Assert.Equal("error", bodies[0].GetProperty("payload").GetProperty("severity").GetString());
        Assert.Equal(6, bodies[0].GetProperty("links").GetArrayLength());
        Assert.False(bodies[1].TryGetProperty("payload", out _));
    }

    [Fact]
    public void Dedup_keys_separate_tenants_and_stay_within_pagerduty_limit()
    {
        var info = new AlertInfo("auth-failures", "x", [1], "user-1");
        Assert.Equal("auditstream/auth-failures/user-1", info.DedupKey(null));
        Assert.Equal("auditstream/auth-failures@acme/user-1", info.DedupKey("acme"));
        Assert.Equal("auditstream/auth-failures@a%2Fb%25/user-1", info.DedupKey("a/b%"));
        Assert.NotEqual(info.DedupKey("acme"), info.DedupKey("globex"));

        var long1 = new AlertInfo("auth-failures", "x", [1], new string('g', 300)).DedupKey("acme");
        var long2 = new AlertInfo("auth-failures", "x", [1], new string('g', 299)).DedupKey("acme");
        Assert.Matches("^auditstream/auth-failures/sha256:[0-9a-f]{64}$", long1);
        Assert.NotEqual(long1, long2);
        Assert.InRange(long1.Length, 1, AlertInfo.MaxDedupKeyLength);
    }
}
