using System.Collections.Concurrent;
using AuditStream.Events;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Conformance;

/// <summary>
/// What every sink must do, run against a real HTTP receiver on loopback that answers in the sink's own protocol:
/// in-order delivery once per id, exact resume after a restart, no loss across an outage, dead letters for poison events
/// without blocking, re-drive, filters, and Retry-After.
/// </summary>
public abstract class SinkConformanceTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    protected FakeReceiver Receiver { get; private set; } = null!;

    protected LedgerFixture Fixture { get; private set; } = null!;

    /// <summary>Ids the receiver accepted, in the order it accepted them.</summary>
    protected ConcurrentQueue<Guid> Accepted { get; } = new();

    /// <summary>Event ids the receiver refuses for good while they are in this set.</summary>
    protected ConcurrentDictionary<Guid, bool> Poison { get; } = new();

    private volatile bool _outage;
    private int _failedRequests;

    /// <summary>While set, every delivery is answered 503.</summary>
    protected bool Outage
    {
        get => _outage;
        set => _outage = value;
    }

    /// <summary>Delivery requests refused so far.</summary>
    protected int FailedRequests => Volatile.Read(ref _failedRequests);

    /// <summary>Creates the sink under test, aimed at <paramref name="receiver"/>.</summary>
    protected abstract (IAuditSink Sink, SinkOptions Options) Create(Uri receiver, Action<SinkOptions> configure);

    /// <summary>Whether a request is a delivery of events (not set-up such as an index template).</summary>
    protected virtual bool IsDelivery(ReceivedRequest request) => request.Method == "POST";

    /// <summary>
    /// Whether the sink must read the body of a 2xx to know what was accepted (Elasticsearch's per-item results), so an
    /// answer whose body never arrives is sent again (harmless where the receiver de-duplicates by id).
    /// </summary>
    protected virtual bool ReadsAcceptedBody => false;

    /// <summary>The event ids a delivery request carries, in order.</summary>
    protected abstract IReadOnlyList<Guid> EventIds(ReceivedRequest request);

    /// <summary>The receiver's answer when it accepts every event of the request.</summary>
    protected abstract Reply AcceptedReply(ReceivedRequest request, IReadOnlyList<Guid> ids);

    /// <summary>The receiver's answer when some events are poison, and which ids it accepted nonetheless.</summary>
    protected abstract (Reply Reply, IReadOnlyList<Guid> Accepted) RefusedReply(ReceivedRequest request, IReadOnlyList<Guid> ids);

    public async Task InitializeAsync()
    {
        Receiver = await FakeReceiver.StartAsync();
        Fixture = await LedgerFixture.OpenAsync();
        Receiver.Handler = Answer;
    }

    public async Task DisposeAsync()
    {
        await Fixture.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    [Fact]
    public async Task Delivers_every_event_once_in_seq_order_in_bounded_batches()
    {
        await using var runner = StartRunner(o => o.MaxBatchSize = 50);
        var events = await Fixture.AppendAsync(120);
        await WaitForPositionAsync(runner, 120);

        Assert.Equal(events.Select(e => e.Id!.Value), Accepted);
        Assert.All(Receiver.Requests.Where(IsDelivery), r => Assert.InRange(EventIds(r).Count, 1, 50));
    }

    [Fact]
    public async Task Restart_resumes_exactly_after_the_last_acknowledged_batch()
    {
        var first = await Fixture.AppendAsync(30);
        var runner = StartRunner();
        await WaitForPositionAsync(runner, 30);
        await runner.DisposeAsync();

        var second = await Fixture.AppendAsync(30);
        await Fixture.ReopenAsync();
        await using var restarted = StartRunner();
        await WaitForPositionAsync(restarted, 60);

        Assert.Equal(first.Concat(second).Select(e => e.Id!.Value), Accepted);
    }

    [Fact]
    public async Task Stopped_mid_delivery_the_unacknowledged_batch_is_sent_again_after_restart_and_nothing_is_missing()
    {
        var events = await Fixture.AppendAsync(30);
        var hanging = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.Handler = r =>
        {
            var reply = Answer(r);
            if (!IsDelivery(r) || !hanging.TrySetResult(EventIds(r).Count))
            {
                return reply;
            }

            // The receiver processed the batch but the acknowledgement never arrives: the server stops first.
            return reply with { Delay = TimeSpan.FromMinutes(5) };
        };
        var runner = StartRunner(o => o.MaxBatchSize = 10);
        var unacknowledged = await hanging.Task.WaitAsync(s_timeout);
        await runner.DisposeAsync();
        Assert.Equal(0, runner.Position);

        await Fixture.ReopenAsync();
        Receiver.Handler = Answer;
        await using var restarted = StartRunner(o => o.MaxBatchSize = 10);
        await WaitForPositionAsync(restarted, 30);

        // At least once: the unacknowledged request twice (the receiver drops it by its idempotency key), everything else once, in order.
        var ids = events.Select(e => e.Id!.Value).ToList();
        Assert.Equal(ids, Accepted.Distinct());
        Assert.Equal(ids.Take(unacknowledged).Concat(ids), Accepted);
    }

    [Fact]
    public async Task A_2xx_is_final_even_when_its_body_stalls_so_the_batch_is_not_sent_again()
    {
        var stalled = 0;
        Receiver.Handler = r =>
        {
            var reply = Answer(r);
            return IsDelivery(r) && reply.Status is >= 200 and < 300 && Interlocked.Increment(ref stalled) == 1
                ? reply with { BodyDelay = TimeSpan.FromSeconds(3) }
                : reply;
        };
        var events = await Fixture.AppendAsync(5);
        await using var runner = StartRunner(o => o.Resilience.AttemptTimeout = TimeSpan.FromMilliseconds(300));
        await WaitForPositionAsync(runner, 5);

        var ids = events.Select(e => e.Id!.Value).ToList();
        Assert.Equal(ReadsAcceptedBody ? ids.Concat(ids) : ids, Accepted);
    }

    [Fact]
    public async Task A_partial_batch_in_flight_at_a_stop_is_sent_again_as_the_same_batch_after_restart()
    {
        // In flight: the 3 events committed before the start, sent after the linger. 27 more arrive before the stop, so a
        // restart that collected a fresh batch would send 10 events, under another webhook-id: the receiver could not tell
        // it had processed the first 3 already.
        var early = await Fixture.AppendAsync(3);
        var hanging = new TaskCompletionSource<IReadOnlyList<Guid>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.Handler = r =>
        {
            var reply = Answer(r);
            return IsDelivery(r) && hanging.TrySetResult(EventIds(r)) ? reply with { Delay = TimeSpan.FromMinutes(5) } : reply;
        };
        var runner = StartRunner(o => o.MaxBatchSize = 10);
        var inFlight = await hanging.Task.WaitAsync(s_timeout);
        var late = await Fixture.AppendAsync(27);
        await runner.DisposeAsync();

        await Fixture.ReopenAsync();
        Receiver.Handler = Answer;
        var restartedAt = DateTimeOffset.UtcNow;
        await using var restarted = StartRunner(o => o.MaxBatchSize = 10);
        await WaitForPositionAsync(restarted, 30);

        var resent = Receiver.Requests.Where(r => r.At >= restartedAt && IsDelivery(r)).ToList();
        Assert.Equal(inFlight, EventIds(resent[0]));
        var ids = early.Concat(late).Select(e => e.Id!.Value).ToList();
        Assert.Equal(ids.Take(inFlight.Count).Concat(ids), Accepted);
    }

    [Fact]
    public async Task Outage_then_recovery_delivers_every_event_once_per_id_in_order()
    {
        _outage = true;
        await using var runner = StartRunner(o => o.MaxBatchSize = 64);
        var events = new List<AuditEvent>();
        for (var i = 0; i < 4; i++)
        {
            events.AddRange(await Fixture.AppendAsync(50));
        }

        await Receiver.WaitUntilAsync(_ => Volatile.Read(ref _failedRequests) >= 6, s_timeout);
        Assert.Empty(Accepted);
        _outage = false;
        await WaitForPositionAsync(runner, 200);

        Assert.Equal(events.Select(e => e.Id!.Value), Accepted);
        Assert.Equal(0, (await runner.GetStatusAsync(default)).DeadLetters);
    }

    [Fact]
    public async Task Permanently_rejected_event_is_dead_lettered_and_the_sink_moves_on()
    {
        var events = await Fixture.AppendAsync(40);
        Poison[events[5].Id!.Value] = true;
        Poison[events[17].Id!.Value] = true;
        await using var runner = StartRunner(o => o.MaxBatchSize = 16);
        await WaitForPositionAsync(runner, 40);

        Assert.Equal(events.Select(e => e.Id!.Value).Where(id => !Poison.ContainsKey(id)), Accepted);
        var letters = await Fixture.State.ListDeadLettersAsync(runner.Name, 0, 100, default);
        Assert.Equal([6L, 18L], letters.Select(l => l.Seq));
        Assert.Equal([events[5].Id, events[17].Id], letters.Select(l => l.EventId));
        Assert.All(letters, l => Assert.False(string.IsNullOrWhiteSpace(l.Reason)));

        var status = await runner.GetStatusAsync(default);
        Assert.Equal(2, status.DeadLetters);
        Assert.Equal(0, status.LagEvents);
    }

    [Fact]
    public async Task Redrive_delivers_dead_letters_once_the_receiver_accepts_them()
    {
        var events = await Fixture.AppendAsync(10);
        Poison[events[3].Id!.Value] = true;
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 10);
        Assert.DoesNotContain(events[3].Id!.Value, Accepted);

        // Still refused: stays a dead letter with another attempt counted.
        Assert.Equal(0, await runner.RedriveAsync(null).WaitAsync(s_timeout));
        Assert.Equal(2, Assert.Single(await Fixture.State.ListDeadLettersAsync(runner.Name, 0, 10, default)).Attempts);

        Poison.Clear();
        Assert.Equal(1, await runner.RedriveAsync([4]).WaitAsync(s_timeout));
        Assert.Single(Accepted, id => id == events[3].Id);
        Assert.Empty(await Fixture.State.ListDeadLettersAsync(runner.Name, 0, 10, default));
    }

    [Fact]
    public async Task Only_events_the_filter_accepts_are_sent_and_the_position_covers_the_rest()
    {
        var events = await Fixture.AppendAsync(30);
        await using var runner = StartRunner(o => o.Filter = new SinkFilter { Severities = ["critical"] });
        await WaitForPositionAsync(runner, 30);

        Assert.Equal(events.Where(e => e.Severity == "critical").Select(e => e.Id!.Value), Accepted);
    }

    [Fact]
    public async Task Retry_after_from_the_receiver_is_honoured()
    {
        var refused = 0;
        Receiver.Handler = r => IsDelivery(r) && Interlocked.Increment(ref refused) == 1
            ? new Reply(429, "{}", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : Answer(r);
        await Fixture.AppendAsync(3);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 3);

        var deliveries = Receiver.Requests.Where(IsDelivery).ToList();
        Assert.True(deliveries.Count >= 2);
        Assert.True(deliveries[1].At - deliveries[0].At >= TimeSpan.FromMilliseconds(900), $"retried after {(deliveries[1].At - deliveries[0].At).TotalMilliseconds} ms");
    }

    protected SinkRunner StartRunner(Action<SinkOptions>? configure = null)
    {
        var (sink, options) = Create(Receiver.BaseAddress, o =>
        {
            o.Enabled = true;
            o.Linger = TimeSpan.FromMilliseconds(20);
            o.Resilience = FastResilienceOptions();
            configure?.Invoke(o);
        });
        var runner = Fixture.Runner(sink, options);
        runner.Start();
        return runner;
    }

    internal static SinkResilienceOptions FastResilienceOptions() => new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(5),
        MaxRetryAttempts = 2,
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(100),
        BreakDuration = TimeSpan.FromMilliseconds(500),
    };

    protected static async Task WaitForPositionAsync(SinkRunner runner, long seq)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        try
        {
            await runner.WaitForPositionAsync(seq, cts.Token);
        }
        catch (OperationCanceledException)
        {
            var status = await runner.GetStatusAsync(default);
            throw new TimeoutException($"{runner.Name} stayed at {status.Position}: {status.LastError}");
        }
    }

    protected Reply Answer(ReceivedRequest request)
    {
        if (!IsDelivery(request))
        {
            return Reply.Ok();
        }

        var ids = EventIds(request);
        if (_outage)
        {
            Interlocked.Increment(ref _failedRequests);
            return new Reply(503, """{"error":"down for maintenance"}""");
        }

        if (ids.Any(Poison.ContainsKey))
        {
            Interlocked.Increment(ref _failedRequests);
            var (reply, accepted) = RefusedReply(request, ids);
            foreach (var id in accepted)
            {
                Accepted.Enqueue(id);
            }

            return reply;
        }

        foreach (var id in ids)
        {
            Accepted.Enqueue(id);
        }

        return AcceptedReply(request, ids);
    }
}
