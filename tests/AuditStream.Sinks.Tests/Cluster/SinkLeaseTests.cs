using System.Diagnostics;
using System.Globalization;
using AuditStream.Ledger;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Sinks.Tests.Support;
using AuditStream.Sinks.Webhook;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AuditStream.Sinks.Tests.Cluster;

/// <summary>
/// Issue 14 item 5: one webhook sink configured on several instances of one PostgreSQL ledger runs on the one instance
/// holding its lease. A real loopback receiver records each request's <c>webhook-id</c> and events, as a receiver that
/// de-duplicates by it would.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class SinkLeaseTests(PostgresServer postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(2);

    private readonly TempDirectory _data = new();
    private readonly DeliveryLog _log = new();
    private readonly List<ClusterStack> _stacks = [];
    private FakeReceiver _receiver = null!;
    private AuditLedger _ledger = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await postgres.CreateLedgerAsync();
        _ledger = await ClusterStack.OpenLedgerAsync(_database, _data.Path);
        _receiver = await FakeReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var stack in _stacks)
        {
            await stack.DisposeAsync();
        }

        await _receiver.DisposeAsync();
        await _ledger.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Three_instances_deliver_each_event_once_and_each_shows_the_one_owner()
    {
        _receiver.Handler = r => Accept(r);
        var first = await StartAsync("instance-a");
        await first.Runner.WaitForLeaseAsync(holding: true, Timeout());
        var others = new[] { await StartAsync("instance-b"), await StartAsync("instance-c") };

        var seqs = await AppendAsync(300);
        await _receiver.WaitUntilAsync(_ => _log.FirstCount >= 300, s_timeout);
        await first.Runner.WaitForPositionAsync(300, Timeout());

        Assert.Equal(seqs, _log.First.Select(d => d.Seq));
        Assert.Equal(300, _log.Events);
        Assert.Empty(_log.Repeated);
        Assert.All(_receiver.Requests, r => Assert.EndsWith("instance=instance-a", r.Path, StringComparison.Ordinal));
        Assert.All(others, o => Assert.Null(o.Runner.Lease));

        // Any instance reports the shared position and the owner, with the lease's expiry.
        var status = await others[1].Runner.GetStatusAsync(Timeout());
        Assert.Equal(("instance-a", 300L, 0L), (status.Owner, status.Position, status.LagEvents));
        Assert.InRange(status.LeaseExpiresAt!.Value, DateTimeOffset.UtcNow - s_lease, DateTimeOffset.UtcNow + (2 * s_lease));
    }

    [Fact]
    public async Task When_the_holder_dies_another_takes_over_within_the_lease_time_resending_only_the_batch_in_flight_under_its_key()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var resent = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver.Handler = r =>
        {
            var key = r.Header(WebhookSignature.IdHeader);
            var reply = Accept(r);
            if (inFlight.Task.IsCompleted && key == inFlight.Task.Result)
            {
                resent.TrySetResult(Stopwatch.GetTimestamp());
            }

            // The receiver processes the request that reaches seq 150 but its answer never reaches the holder.
            return DeliveryLog.WebhookEvents(r)[^1].Seq >= 150 && inFlight.TrySetResult(key) ? reply with { Hold = hold.Task } : reply;
        };
        var holder = await StartAsync("instance-a");
        await holder.Runner.WaitForLeaseAsync(holding: true, Timeout());
        var others = new[] { await StartAsync("instance-b"), await StartAsync("instance-c") };
        var seqs = await AppendAsync(300);
        var key = await inFlight.Task.WaitAsync(s_timeout);

        var killedAt = Stopwatch.GetTimestamp();
        await holder.KillAsync();
        var takenOverAt = await resent.Task.WaitAsync(s_timeout);
        await _receiver.WaitUntilAsync(_ => _log.FirstCount >= 300, s_timeout);
        hold.TrySetResult();

        var takeover = Stopwatch.GetElapsedTime(killedAt, takenOverAt);
        var successor = others.Single(o => o.Runner.Lease is not null);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{successor.Id} resent the batch in flight {takeover.TotalSeconds:F2} s after the holder died (lease {s_lease.TotalSeconds} s)"));
        Assert.True(takeover < s_lease + TimeSpan.FromSeconds(1), $"takeover took {takeover}");

        // Every event once, in order, plus the one request that was in flight, again under the same key with the same events.
        Assert.Equal(seqs, _log.First.Select(d => d.Seq));
        Assert.Equal(new Dictionary<string, int> { [key] = 2 }, _log.Repeated);
        Assert.Empty(_log.Mismatches);
        Assert.Equal(300 + 50, _log.Events);
        await successor.Runner.WaitForPositionAsync(300, Timeout());
        Assert.Equal(300, (await successor.State.GetCursorAsync(ClusterStack.SinkName, default))?.Position);
    }

    [Fact]
    public async Task A_paused_holder_whose_lease_was_taken_over_cannot_save_its_position_and_delivers_nothing_more()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver.Handler = r =>
        {
            var reply = Accept(r);
            return r.Path.EndsWith("instance=paused", StringComparison.Ordinal) && inFlight.TrySetResult(r.Header(WebhookSignature.IdHeader))
                ? reply with { Hold = hold.Task }
                : reply;
        };

        // The paused instance's clock stands still: it never renews and never sees its lease run out by itself.
        var paused = await StartAsync("paused", new FakeTimeProvider(DateTimeOffset.UtcNow));
        await paused.Runner.WaitForLeaseAsync(holding: true, Timeout());
        var seqs = await AppendAsync(100);
        var key = await inFlight.Task.WaitAsync(s_timeout);

        // Another instance takes the sink over once the lease has expired by the database's clock, resends the batch in
        // flight under its key and delivers the rest.
        var successor = await StartAsync("successor");
        await _receiver.WaitUntilAsync(_ => _log.FirstCount >= 100, s_timeout);
        await successor.Runner.WaitForPositionAsync(100, Timeout());

        // The paused instance gets its answer at last: its position write is fenced and it stops.
        hold.TrySetResult();
        await paused.Runner.WaitForLeaseAsync(holding: false, Timeout());

        Assert.Equal(100, (await paused.State.GetCursorAsync(ClusterStack.SinkName, default))?.Position);
        Assert.Equal(0, paused.Runner.Position);
        Assert.Single(_receiver.Requests, r => r.Path.EndsWith("instance=paused", StringComparison.Ordinal));
        Assert.Equal(seqs, _log.First.Select(d => d.Seq));
        Assert.Equal(new Dictionary<string, int> { [key] = 2 }, _log.Repeated);
        Assert.Empty(_log.Mismatches);
        Assert.Equal("successor", (await paused.Runner.GetStatusAsync(Timeout())).Owner);
    }

    [Fact]
    public async Task A_paused_idle_holder_woken_by_new_events_is_fenced_when_it_marks_its_batch_in_flight_and_sends_nothing()
    {
        _receiver.Handler = r => Accept(r);
        var paused = await StartAsync("paused", new FakeTimeProvider(DateTimeOffset.UtcNow));
        await paused.Runner.WaitForLeaseAsync(holding: true, Timeout());
        var successor = await StartAsync("successor");
        await successor.Runner.WaitForLeaseAsync(holding: true, Timeout());

        // Both read the new events from the feed; the paused one, still sure of its lease, fails to record its batch as in
        // flight (a position write under its old term) and stops before sending it.
        var seqs = await AppendAsync(120);
        await successor.Runner.WaitForPositionAsync(120, Timeout());
        await paused.Runner.WaitForLeaseAsync(holding: false, Timeout());

        Assert.Equal(seqs, _log.First.Select(d => d.Seq));
        Assert.Empty(_log.Repeated);
        Assert.All(_receiver.Requests, r => Assert.EndsWith("instance=successor", r.Path, StringComparison.Ordinal));
        Assert.Equal(120, (await paused.State.GetCursorAsync(ClusterStack.SinkName, default))?.Position);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(s_timeout).Token;

    private Reply Accept(ReceivedRequest request)
    {
        _log.Accept(request.Header(WebhookSignature.IdHeader), DeliveryLog.WebhookEvents(request));
        return new Reply(204, "");
    }

    private async Task<ClusterStack> StartAsync(string id, TimeProvider? time = null)
    {
        var stack = await ClusterStack.StartAsync(id, _database, _ledger, _receiver, s_lease, time: time);
        _stacks.Add(stack);
        return stack;
    }

    private async Task<List<long>> AppendAsync(int count)
    {
        var result = await _ledger.AppendAsync([.. Enumerable.Range(0, count).Select(LedgerFixture.Event)], "acme");
        Assert.False(result.IsInvalid, string.Join("; ", result.Errors));
        return [.. result.Append!.Events.Select(e => e.Receipt.Seq)];
    }
}
