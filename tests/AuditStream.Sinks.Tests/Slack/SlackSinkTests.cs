using System.Text.Json;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Slack;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Slack;

public sealed class SlackSinkTests : IAsyncLifetime
{
    private FakeReceiver _receiver = null!;
    private LedgerFixture _fixture = null!;

    public async Task InitializeAsync()
    {
        _receiver = await FakeReceiver.StartAsync();
        _receiver.Handler = _ => new Reply(200, "ok");
        _fixture = await LedgerFixture.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Routes_critical_to_the_critical_channel_security_to_the_audit_channel_and_custom_rules_first()
    {
        await _fixture.AppendAsync(4, i => LedgerFixture.Event(1) with
        {
            Severity = i == 0 ? "critical" : "info",
            Category = i switch { 1 => "security", 3 => "financial", _ => "data" },
            Type = i switch { 1 => "auth.failure", 3 => "payment.refunded", _ => "data.accessed" },
        });
        await using var runner = Start(o => o.Routes = [new SlackRoute { Categories = ["financial"], Channel = "#finance" }]);
        await WaitAsync(runner, 4);

        var messages = _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["#incidents", "#audit", "#finance"], messages.Select(m => m.GetProperty("channel").GetString()));

        var critical = messages[0];
        Assert.Equal(":rotating_light: CRITICAL · data.accessed", critical.GetProperty("blocks")[0].GetProperty("text").GetProperty("text").GetString());
        var fields = critical.GetProperty("blocks")[1].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("text").GetString()).ToList();
        Assert.Equal(["*Who*\nuser-1 (user)", "*What*\nread · success", "*Target*\ncustomer_record record-1", "*Severity*\ncritical", "*Category*\ndata", "*Tenant*\nacme"], fields);
        var context = critical.GetProperty("blocks")[2].GetProperty("elements")[0].GetProperty("text").GetString();
        Assert.Contains("seq 1 · ", context, StringComparison.Ordinal);
        Assert.EndsWith("<https://audit.example.com/api/v1/events/1|view in AuditStream>", context, StringComparison.Ordinal);
        Assert.StartsWith("[critical] data.accessed", critical.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flood_of_one_type_becomes_one_message_and_a_digest()
    {
        await _fixture.AppendAsync(40, i => LedgerFixture.Event(3) with { ActorId = "user-" + (i % 3) });
        await using var runner = Start();
        await WaitAsync(runner, 40);

        var messages = _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Equal("39 more auth.failure events in the last minute", messages[1].GetProperty("text").GetString());
        var digest = messages[1].GetProperty("blocks")[0].GetProperty("text").GetProperty("text").GetString();
        Assert.StartsWith("*39 more* `auth.failure` events in the last minute (info)", digest, StringComparison.Ordinal);
        Assert.Contains("seq 2–40", messages[1].GetProperty("blocks")[1].GetProperty("elements")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_to_one_webhook_keep_the_interval_and_429_retry_after_is_honoured()
    {
        var first = 0;
        _receiver.Handler = _ => Interlocked.Increment(ref first) == 1
            ? new Reply(429, "rate_limited", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : new Reply(200, "ok");
        await _fixture.AppendAsync(3, i => LedgerFixture.Event(3) with { Type = "auth.failure" + i switch { 0 => "", 1 => "d", _ => "x" } });
        await using var runner = Start(o => o.MessageInterval = TimeSpan.FromMilliseconds(300));
        await WaitAsync(runner, 3);

        var at = _receiver.Requests.Select(r => r.At).ToList();
        Assert.Equal(4, at.Count);
        Assert.True(at[1] - at[0] >= TimeSpan.FromMilliseconds(900), "Retry-After");
        Assert.True(at[2] - at[1] >= TimeSpan.FromMilliseconds(280), "interval");
        Assert.True(at[3] - at[2] >= TimeSpan.FromMilliseconds(280), "interval");
    }

    [Fact]
    public async Task A_message_slack_refuses_is_dead_lettered_and_the_others_still_go_out()
    {
        _receiver.Handler = r => JsonDocument.Parse(r.Body).RootElement.GetProperty("text").GetString()!.Contains("record-1 ", StringComparison.Ordinal)
            ? new Reply(400, "invalid_blocks")
            : new Reply(200, "ok");
        await _fixture.AppendAsync(3, i => LedgerFixture.Event(i) with { Severity = "critical", Type = "data.t" + i });
        await using var runner = Start();
        await WaitAsync(runner, 3);

        Assert.Equal(3, _receiver.Requests.Count);
        var letter = Assert.Single(await _fixture.State.ListDeadLettersAsync("slack", 0, 10, default));
        Assert.Equal(2, letter.Seq);
        Assert.Equal("HTTP 400: invalid_blocks", letter.Reason);
    }

    [Fact]
    public async Task An_ok_is_final_even_when_its_body_stalls_so_no_message_is_posted_twice()
    {
        var first = 0;
        _receiver.Handler = _ => Interlocked.Increment(ref first) == 1 ? new Reply(200, "ok", BodyDelay: TimeSpan.FromSeconds(3)) : new Reply(200, "ok");
        await _fixture.AppendAsync(3, i => LedgerFixture.Event(i) with { Severity = "critical", Type = "data.t" + i });
        await using var runner = Start(o => o.Resilience.AttemptTimeout = TimeSpan.FromMilliseconds(300));
        await WaitAsync(runner, 3);

        Assert.Equal(
            ["[critical] data.t0", "[critical] data.t1", "[critical] data.t2"],
            _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("text").GetString()!.Split(':')[0]));
    }

    [Fact]
    public async Task An_alert_resolution_goes_where_its_alert_went_marked_resolved()
    {
        var info = new AlertInfo("auth-failures", "5 events matching auth-failures from actor_id user-1 within 60 s", [1], "user-1");
        await _fixture.AppendAsync(2, i => LedgerFixture.Event(3) with
        {
            Type = i == 0 ? AlertInfo.RaisedType : AlertInfo.ResolvedType,
            Severity = "critical",
            Metadata = info.ToMetadata(),
        });
        await using var runner = Start();
        await WaitAsync(runner, 2);

        var messages = _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["#incidents", "#incidents"], messages.Select(m => m.GetProperty("channel").GetString()));
        Assert.Equal(
            [":rotating_light: CRITICAL · alert.raised", ":white_check_mark: CRITICAL · alert.resolved"],
            messages.Select(m => m.GetProperty("blocks")[0].GetProperty("text").GetProperty("text").GetString()));
    }

    [Theory]
    [InlineData(0, "in the last minute")]
    [InlineData(59, "in the last minute")]
    [InlineData(61, "in the last 2 minutes")]
    public void Digest_window_reads_naturally(int seconds, string text) =>
        Assert.Equal(text, SlackMessages.Window(TimeSpan.FromSeconds(seconds)));

    private SinkRunner Start(Action<SlackOptions>? configure = null)
    {
        var options = new SlackOptions
        {
            WebhookUrl = new Uri(_receiver.BaseAddress, "services/T000/B000/XXXX"),
            AuditChannel = "#audit",
            CriticalChannel = "#incidents",
            StartAt = SinkStart.Beginning,
            Linger = TimeSpan.FromMilliseconds(50),
            MessageInterval = TimeSpan.Zero,
            EventLinkBase = new Uri("https://audit.example.com/"),
            Resilience = SinkConformanceTests.FastResilienceOptions(),
        };
        configure?.Invoke(options);
        var runner = _fixture.Runner(new SlackSink(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, TimeProvider.System), options);
        runner.Start();
        return runner;
    }

    private static async Task WaitAsync(SinkRunner runner, long seq) =>
        await runner.WaitForPositionAsync(seq, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
}
