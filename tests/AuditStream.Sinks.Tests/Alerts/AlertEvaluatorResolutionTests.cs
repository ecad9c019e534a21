using System.Text.Json;
using AuditStream.Events;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.PagerDuty;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Sinks.Tests.Alerts;

/// <summary>
/// The evaluator on a real ledger whose commits and whose own clock are one fake clock: a quiet ledger resolves by the
/// clock, a restart neither loses nor repeats a resolution, and PagerDuty gets trigger then resolve for one incident.
/// </summary>
public sealed class AlertEvaluatorResolutionTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    // In the past, so alert times are never ahead of the validator's real clock.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow.AddHours(-2));
    private LedgerFixture _fixture = null!;

    public async Task InitializeAsync() => _fixture = await LedgerFixture.OpenAsync(_time);

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    [Fact]
    public async Task A_quiet_ledger_resolves_by_the_clock_exactly_once_and_a_replay_records_nothing_new()
    {
        await using (var evaluator = Start())
        {
            await FailAsync(5);
            await WaitAsync(evaluator, 6);
            Assert.Equal(AlertInfo.RaisedType, (await ReadAsync(6)).Type);

            // Inside the window: an unrelated commit resolves nothing.
            _time.Advance(TimeSpan.FromSeconds(59));
            await _fixture.AppendAsync(1, _ => LedgerFixture.Event(1));
            await WaitAsync(evaluator, 7);
            Assert.Equal(7, _fixture.Ledger.Head.Size);

            // Past the window (and the grace for commits on their way) with nothing committed: the clock resolves it.
            _time.Advance(TimeSpan.FromSeconds(1) + AlertEvaluator.ClockGrace);
            await WaitAsync(evaluator, 8);
            var resolved = await ReadAsync(8);
            Assert.Equal(AlertInfo.ResolvedType, resolved.Type);
            Assert.Equal([6L, 5], AlertInfo.Read(resolved)!.RelatedSeqs);

            _time.Advance(TimeSpan.FromMinutes(10));
            await _fixture.AppendAsync(1, _ => LedgerFixture.Event(1));
            await WaitAsync(evaluator, 9);
            Assert.Equal((1, 1), (evaluator.Fired, evaluator.Resolved));
        }

        // Evaluation from scratch: the same raised and resolved ids come out, and the ledger keeps the originals.
        await _fixture.State.SaveCursorAsync(AlertEvaluator.CursorName, 0, null, default);
        await using (var evaluator = Start())
        {
            await WaitAsync(evaluator, 9);
        }

        Assert.Equal(9, _fixture.Ledger.Head.Size);
        Assert.Equal(1, await CountAsync(AlertInfo.ResolvedType));
    }

    [Fact]
    public async Task A_restart_between_raised_and_resolved_resolves_once_even_when_the_save_after_it_was_lost()
    {
        await using (var evaluator = Start())
        {
            await FailAsync(5);
            await WaitAsync(evaluator, 6);
        }

        await _fixture.ReopenAsync();
        var beforeResolution = (await _fixture.State.GetCursorAsync(AlertEvaluator.CursorName, default)).GetValueOrDefault();
        Assert.Equal(6, beforeResolution.Position);
        await using (var evaluator = Start())
        {
            await WaitAsync(evaluator, 6);
            _time.Advance(TimeSpan.FromSeconds(61));
            await WaitAsync(evaluator, 7);
            Assert.Equal((0, 1), (evaluator.Fired, evaluator.Resolved));
        }

        // A crash right after the append: the saved state still has the alert open.
        await _fixture.State.SaveCursorAsync(AlertEvaluator.CursorName, beforeResolution.Position, beforeResolution.State, default);
        await _fixture.ReopenAsync();
        await using (var evaluator = Start())
        {
            await _fixture.AppendAsync(1, _ => LedgerFixture.Event(1));
            await WaitAsync(evaluator, 8);
        }

        Assert.Equal(8, _fixture.Ledger.Head.Size);
        Assert.Equal((1, 1), (await CountAsync(AlertInfo.RaisedType), await CountAsync(AlertInfo.ResolvedType)));
    }

    [Fact]
    public async Task PagerDuty_gets_trigger_then_resolve_with_one_dedup_key()
    {
        await using var receiver = await FakeReceiver.StartAsync();
        receiver.Handler = _ => new Reply(202, """{"status":"success","message":"Event processed","dedup_key":"x"}""");
        var options = new PagerDutyOptions
        {
            RoutingKey = "R0UT1NGKEY0000000000000000000000",
            EventsUrl = new Uri(receiver.BaseAddress, "v2/enqueue"),
            StartAt = SinkStart.Beginning,
            PageSeverities = [],
            Linger = TimeSpan.Zero,
            Resilience = SinkConformanceTests.FastResilienceOptions(),
        };
        await using var runner = _fixture.Runner(new PagerDutySink(options, new HttpClient(), TimeProvider.System), options);
        runner.Start();
        await using var evaluator = Start();

        await FailAsync(5);
        await receiver.WaitUntilAsync(r => r.Count >= 1, s_timeout);
        _time.Advance(TimeSpan.FromSeconds(61));
        await receiver.WaitUntilAsync(r => r.Count >= 2, s_timeout);

        var bodies = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["trigger", "resolve"], bodies.Select(b => b.GetProperty("event_action").GetString()));
        Assert.All(bodies, b => Assert.Equal("auditstream/auth-failures@acme/user-9", b.GetProperty("dedup_key").GetString()));
        Assert.Equal("5 events matching auth-failures from actor_id user-9 within 60 s", bodies[0].GetProperty("payload").GetProperty("summary").GetString());
        await runner.WaitForPositionAsync(7, new CancellationTokenSource(s_timeout).Token);
        Assert.Equal(2, receiver.Requests.Count);
    }

    private AlertEvaluator Start()
    {
        var options = new AlertOptions
        {
            StartAt = SinkStart.Beginning,
            Rules =
            [
                new AlertRuleOptions
                {
                    Name = "auth-failures", Kind = "security", Severity = "error", Threshold = 5, GroupBy = "actor_id",
                    Window = TimeSpan.FromSeconds(60), Filter = new SinkFilter { EventTypes = ["auth.failure"] },
                },
            ],
        };
        var evaluator = new AlertEvaluator(options, _fixture.Ledger, _fixture.State, _time, NullLogger.Instance);
        evaluator.Start();
        return evaluator;
    }

    private Task FailAsync(int count) => _fixture.AppendAsync(count, _ => LedgerFixture.Event(3) with { ActorId = "user-9" });

    private async Task<AuditEvent> ReadAsync(long seq)
    {
        await foreach (var record in _fixture.Ledger.Store.ReadRangeAsync(seq, seq, default))
        {
            return record.Event;
        }

        throw new InvalidOperationException($"seq {seq} is missing");
    }

    private async Task<int> CountAsync(string type)
    {
        var count = 0;
        await foreach (var record in _fixture.Ledger.Store.ReadRangeAsync(1, _fixture.Ledger.Head.Size, default))
        {
            count += record.Event.Type == type ? 1 : 0;
        }

        return count;
    }

    private static async Task WaitAsync(AlertEvaluator evaluator, long seq) =>
        await evaluator.WaitForPositionAsync(seq, new CancellationTokenSource(s_timeout).Token);
}
