using System.IO.Compression;
using System.Text.Json;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Datadog;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Datadog;

public sealed class DatadogSinkTests : SinkConformanceTests
{
    protected override (IAuditSink Sink, SinkOptions Options) Create(Uri receiver, Action<SinkOptions> configure)
    {
        var options = new DatadogOptions { ApiKey = "dd-test-key", Url = new Uri(receiver, "api/v2/logs"), Hostname = "audit-1", Tags = ["env:test"] };
        configure(options);
        return (new DatadogSink(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, TimeProvider.System), options);
    }

    protected override IReadOnlyList<Guid> EventIds(ReceivedRequest request) =>
        [.. Entries(request).Select(e => e.GetProperty("audit").GetProperty("id").GetGuid())];

    protected override Reply AcceptedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) => new(202, "{}");

    protected override (Reply Reply, IReadOnlyList<Guid> Accepted) RefusedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        (new Reply(400, """{"errors":[{"status":"400","title":"Bad Request","detail":"Invalid log"}]}"""), []);

    private static List<JsonElement> Entries(ReceivedRequest request)
    {
        using var gzip = new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress);
        using var json = JsonDocument.Parse(gzip);
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    [Fact]
    public async Task Logs_are_a_gzip_json_array_with_api_key_status_tags_host_and_service()
    {
        var events = await Fixture.AppendAsync(10, i => LedgerFixture.Event(i) with { Compliance = i == 0 ? ["gdpr"] : null });
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 10);

        var request = Assert.Single(Receiver.Requests);
        Assert.Equal("/api/v2/logs", request.Path);
        Assert.Equal("dd-test-key", request.Header("dd-api-key"));
        Assert.Equal("gzip", request.Header("content-encoding"));
        Assert.Equal("application/json", request.Header("content-type"));
        var entries = Entries(request);
        Assert.Equal(10, entries.Count);
        var first = entries[0];
        Assert.Equal("auditstream", first.GetProperty("ddsource").GetString());
        Assert.Equal("auditstream", first.GetProperty("service").GetString());
        Assert.Equal("audit-1", first.GetProperty("hostname").GetString());
        Assert.Equal("critical", first.GetProperty("status").GetString());
        Assert.Equal("info", entries[1].GetProperty("status").GetString());
        Assert.Equal(
            "tenant:acme,category:security,severity:critical,event_type:auth.failure,compliance:gdpr,env:test",
            first.GetProperty("ddtags").GetString());
        Assert.Equal("auth.failure: user-0 read customer_record record-0 (failure)", first.GetProperty("message").GetString());
        Assert.Equal(events[0].Id, first.GetProperty("audit").GetProperty("id").GetGuid());
        Assert.Equal(1, first.GetProperty("audit").GetProperty("seq").GetInt64());
    }

    [Theory]
    [InlineData("critical", "critical")]
    [InlineData("error", "error")]
    [InlineData("warning", "warn")]
    [InlineData("info", "info")]
    public void Severity_maps_to_datadog_status(string severity, string status) =>
        Assert.Equal(status, DatadogSink.Status(severity));

    [Fact]
    public async Task An_alert_resolution_has_status_ok_and_every_entry_carries_the_event_id()
    {
        var events = await Fixture.AppendAsync(2, i => LedgerFixture.Event(3) with
        {
            Type = i == 0 ? AlertInfo.RaisedType : AlertInfo.ResolvedType,
            Severity = "error",
        });
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 2);

        var entries = Entries(Assert.Single(Receiver.Requests));
        Assert.Equal(["error", "ok"], entries.Select(e => e.GetProperty("status").GetString()));
        Assert.Equal(events.Select(e => e.Id), entries.Select(e => (Guid?)e.GetProperty("audit").GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task A_batch_over_the_payload_limit_is_split_before_it_is_sent()
    {
        // 200 events of ~30 KB: 6 MB in one batch, over Datadog's 5 MB.
        var big = JsonDocument.Parse("{\"blob\":\"" + new string('x', 30_000) + "\"}").RootElement.Clone();
        for (var i = 0; i < 4; i++)
        {
            await Fixture.AppendAsync(50, i => LedgerFixture.Event(i) with { Metadata = big });
        }

        await using var runner = StartRunner(o => o.MaxBatchSize = 200);
        await WaitForPositionAsync(runner, 200);

        Assert.Equal(200, Accepted.Count);
        Assert.True(Receiver.Requests.Count >= 2);
        Assert.All(Receiver.Requests, r => Assert.True(Entries(r).Sum(e => e.GetRawText().Length) < DatadogSink.MaxPayloadBytes));
    }
}
