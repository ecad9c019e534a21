using System.Text.Json;
using AuditStream.Events;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Alerts;

/// <summary>Open threshold alerts and their <c>alert.resolved</c>, on commit time alone (the engine has no clock of its own).</summary>
public sealed class AlertResolutionTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static AlertRuleOptions BruteForce() => new()
    {
        Name = "auth-failures",
        Kind = "security",
        Severity = "error",
        Filter = new SinkFilter { EventTypes = ["auth.failure"] },
        Threshold = 5,
        Window = TimeSpan.FromSeconds(60),
        GroupBy = "actor_id",
    };

    [Fact]
    public void Raised_then_a_quiet_window_resolves_exactly_once_at_the_first_commit_past_it()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var raised = Feed(engine, 1, [0, 1, 2, 3, 4]).Single();
        engine.Committed(raised.Id!.Value, 6);
        Assert.Equal(s_t0.AddSeconds(64), engine.NextResolution);

        // Not yet: the last failure (4 s) is still in the window at 63.9 s.
        Assert.Empty(engine.Process(Record(7, s_t0.AddSeconds(63.9), Other())));
        var resolved = Assert.Single(engine.Process(Record(8, s_t0.AddSeconds(64), Other())));

        Assert.Equal(AlertInfo.ResolvedType, resolved.Type);
        Assert.Equal(AlertEngine.ResolvedId("auth-failures", "acme", "user-1", 1), resolved.Id);
        Assert.NotEqual(raised.Id, resolved.Id);
        Assert.Equal(("security", "error", "resolve", "acme"), (resolved.Category, resolved.Severity, resolved.Action, resolved.TenantId));
        Assert.Equal(("auth-failures", "alert_rule", "user-1", "actor_id"), (resolved.ActorId, resolved.ActorType, resolved.TargetId, resolved.TargetType));
        Assert.Equal(s_t0.AddSeconds(64), resolved.OccurredAt);
        var info = AlertInfo.Read(resolved)!;
        Assert.Equal(["rule", "summary", "related_seqs", "group_key"], resolved.Metadata!.Value.GetProperty("alert").EnumerateObject().Select(p => p.Name));
        Assert.Equal("auth-failures from actor_id user-1 resolved: under 5 events within 60 s since seq 5", info.Summary);
        Assert.Equal([6L, 5], info.RelatedSeqs);
        Assert.Equal(AlertInfo.Read(raised)!.DedupKey("acme"), info.DedupKey("acme"));

        Assert.Empty(engine.Process(Record(9, s_t0.AddMinutes(10), Failure("user-1"))));
        Assert.Empty(engine.ResolveDue(s_t0.AddDays(1)));
        Assert.Equal(0, engine.OpenAlerts);
    }

    [Fact]
    public void Reaching_the_threshold_again_keeps_the_alert_open_and_a_slower_trickle_does_not()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);

        // One failure every 10 s for 100 s: at least 5 in every window from 40 s on, so it re-triggers up to seq 11 (100 s).
        var alerts = Feed(engine, 1, [.. Enumerable.Range(0, 11).Select(i => i * 10.0)]);

        // Then 130 s and 155 s: 4 and 3 in their windows, under the threshold.
        alerts.AddRange(Feed(engine, 12, [130, 155]));
        Assert.Equal(AlertInfo.RaisedType, Assert.Single(alerts).Type);
        Assert.Equal(s_t0.AddSeconds(160), engine.NextResolution);

        Assert.Empty(engine.Process(Record(14, s_t0.AddSeconds(159.999), Other())));
        var resolved = Assert.Single(engine.Process(Record(15, s_t0.AddSeconds(160), Other())));
        Assert.Equal("auth-failures from actor_id user-1 resolved: under 5 events within 60 s since seq 11 (8 more matching events while open)", AlertInfo.Read(resolved)!.Summary);
    }

    [Fact]
    public void Failing_again_after_the_resolution_raises_a_new_alert_with_new_ids()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var first = Feed(engine, 1, [0, 1, 2, 3, 4]).Single();
        var firstResolved = Assert.Single(engine.Process(Record(6, s_t0.AddSeconds(70), Other())));

        var second = Feed(engine, 7, [100, 101, 102, 103, 104]).Single();
        var secondResolved = Assert.Single(engine.ResolveDue(s_t0.AddSeconds(164)));

        Assert.Equal(AlertEngine.AlertId("auth-failures", "acme", "user-1", 7), second.Id);
        Assert.Equal([7L, 8, 9, 10, 11], AlertInfo.Read(second)!.RelatedSeqs);
        Assert.Equal(AlertEngine.ResolvedId("auth-failures", "acme", "user-1", 7), secondResolved.Id);
        Assert.Equal(4, new[] { first.Id, firstResolved.Id, second.Id, secondResolved.Id }.Distinct().Count());

        // Same incident key every time: PagerDuty opens a new incident for a trigger after a resolve.
        Assert.Single(new[] { first, firstResolved, second, secondResolved }.Select(a => AlertInfo.Read(a)!.DedupKey(a.TenantId)).Distinct());
    }

    [Fact]
    public void Open_alerts_survive_saved_state_and_a_clock_resolution_equals_a_commit_time_one()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var raised = Feed(engine, 1, [0, 1, 2, 3, 4]).Single();
        engine.Committed(raised.Id!.Value, 6);
        var state = engine.SaveState();

        var resumed = new AlertEngine([BruteForce()], TimeProvider.System);
        resumed.LoadState(state);
        Assert.Equal(1, resumed.OpenAlerts);
        Assert.Empty(resumed.Process(Record(7, s_t0.AddSeconds(5), Failure("user-2"))));
        Assert.Empty(resumed.ResolveDue(s_t0.AddSeconds(63)));
        var byClock = Assert.Single(resumed.ResolveDue(s_t0.AddSeconds(65)));
        var byCommit = Assert.Single(engine.Process(Record(7, s_t0.AddSeconds(90), Other())));

        Assert.Equal(Json(byCommit), Json(byClock));
    }

    [Fact]
    public void Windows_saved_by_the_earlier_format_still_load()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var micros = (s_t0 - DateTimeOffset.UnixEpoch).Ticks / 10;
        engine.LoadState($$"""[{"rule":"auth-failures","tenant":"acme","group":"user-1","entries":[[1,{{micros}}],[2,{{micros}}],[3,{{micros}}]]},{"rule":"gone","tenant":"","group":"","entries":[[4,{{micros}}]]}]""");

        var raised = Feed(engine, 4, [1, 2]).Single();
        Assert.Equal([1L, 2, 3, 4, 5], AlertInfo.Read(raised)!.RelatedSeqs);
    }

    [Fact]
    public void A_single_event_rule_can_resolve_when_asked_to()
    {
        var rule = new AlertRuleOptions { Name = "consent-failed", Kind = "compliance", AutoResolve = true, Window = TimeSpan.FromMinutes(5), Filter = new SinkFilter { EventTypes = ["auth.failure"] } };
        var engine = new AlertEngine([rule], TimeProvider.System);
        var alerts = Feed(engine, 1, [0, 60, 120]);
        alerts.AddRange(engine.ResolveDue(s_t0.AddMinutes(7)));

        Assert.Equal([AlertInfo.RaisedType, AlertInfo.ResolvedType], alerts.Select(a => a.Type));
        Assert.Equal("consent-failed resolved: no matching event within 5 min since seq 3 (2 more matching events while open)", AlertInfo.Read(alerts[1])!.Summary);
    }

    private static List<AuditEvent> Feed(AlertEngine engine, long firstSeq, double[] seconds, string actor = "user-1")
    {
        var alerts = new List<AuditEvent>();
        for (var i = 0; i < seconds.Length; i++)
        {
            alerts.AddRange(engine.Process(Record(firstSeq + i, s_t0.AddSeconds(seconds[i]), Failure(actor))));
        }

        return alerts;
    }

    private static string Json(AuditEvent e) => JsonSerializer.Serialize(e, AuditJsonContext.Default.AuditEvent);

    private static AuditEvent Failure(string actor) => LedgerFixture.Event(0) with { ActorId = actor, TargetId = "record-1", Severity = "info" };

    private static AuditEvent Other() => LedgerFixture.Event(1);

    private static LedgerRecord Record(long seq, DateTimeOffset at, AuditEvent e) =>
        new(seq, (at - DateTimeOffset.UnixEpoch).Ticks / 10, new byte[32], new byte[32], JsonSerializer.SerializeToUtf8Bytes(e, AuditJsonContext.Default.AuditEvent), e);
}
