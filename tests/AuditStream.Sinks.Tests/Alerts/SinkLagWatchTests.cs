using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;
using AuditStream.Sinks.Webhook;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Sinks.Tests.Alerts;

public sealed class SinkLagWatchTests : IAsyncLifetime
{
    private FakeReceiver _receiver = null!;
    private LedgerFixture _fixture = null!;

    public async Task InitializeAsync()
    {
        _receiver = await FakeReceiver.StartAsync();
        _fixture = await LedgerFixture.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        await _fixture.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_sink_behind_by_more_than_the_limit_raises_a_system_alert_and_resolves_it_when_it_catches_up()
    {
        var down = true;
        _receiver.Handler = _ => down ? new Reply(503) : new Reply(204, "");
        var options = new WebhookOptions { Name = "hook", Url = _receiver.BaseAddress, Linger = TimeSpan.Zero, Filter = new SinkFilter { EventTypes = ["data.*"] }, Resilience = SinkConformanceTests.FastResilienceOptions() };
        await using var runner = _fixture.Runner(new WebhookSink(options, new HttpClient(), TimeProvider.System), options);
        runner.Start();
        await using var watch = new SinkLagWatch(new SinkLagOptions { MaxLag = TimeSpan.FromMilliseconds(1) }, [runner], _fixture.Ledger, TimeProvider.System, NullLogger.Instance);

        await _fixture.AppendAsync(3, i => LedgerFixture.Event(1));
        await _receiver.WaitUntilAsync(r => r.Count >= 2);
        var raised = Assert.Single(await watch.CheckAsync(default));
        Assert.Equal("alert.raised", raised.Type);
        Assert.Equal("system", raised.Category);
        Assert.Equal("error", raised.Severity);
        var info = AlertInfo.Read(raised)!;
        Assert.Equal(("sink-lag", "hook"), (info.Rule, info.GroupKey));
        Assert.Equal([1L], info.RelatedSeqs);
        Assert.StartsWith("sink hook is ", info.Summary, StringComparison.Ordinal);
        Assert.Empty(await watch.CheckAsync(default));

        down = false;
        await runner.WaitForPositionAsync(3, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        // The alert (seq 4) is not a data.* event: the sink passes over it, and is caught up.
        await runner.WaitForPositionAsync(4, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        var resolved = Assert.Single(await watch.CheckAsync(default));
        Assert.Equal("alert.resolved", resolved.Type);
        Assert.Equal(info.DedupKey(null), AlertInfo.Read(resolved)!.DedupKey(resolved.TenantId));
        Assert.Equal(raised.Severity, resolved.Severity);
        Assert.Equal(5, _fixture.Ledger.Head.Size);
    }
}
