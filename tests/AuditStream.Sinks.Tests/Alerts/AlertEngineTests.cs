using System.Text.Json;
using AuditStream.Events;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Alerts;

public sealed class AlertEngineTests
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
    public void Threshold_within_the_window_per_group_fires_one_alert_event_in_the_agreed_shape()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var fired = new List<AuditEvent>();
        for (var i = 0; i < 9; i++)
        {
            fired.AddRange(engine.Process(Record(i + 1, s_t0.AddSeconds(i), Failure(i % 2 == 0 ? "user-1" : "user-2"))));
        }

        var alert = Assert.Single(fired);
        Assert.Equal("alert.raised", alert.Type);
        Assert.Equal("security", alert.Category);
        Assert.Equal("error", alert.Severity);
        Assert.Equal("acme", alert.TenantId);
        Assert.Equal(AlertEngine.AlertId("auth-failures", "acme", "user-1", 1), alert.Id);
        var metadata = alert.Metadata!.Value;
        Assert.Equal(["alert"], metadata.EnumerateObject().Select(p => p.Name));
        var info = metadata.GetProperty("alert");
        Assert.Equal(["rule", "summary", "related_seqs", "group_key"], info.EnumerateObject().Select(p => p.Name));
        Assert.Equal("auth-failures", info.GetProperty("rule").GetString());
        Assert.Equal([1L, 3, 5, 7, 9], info.GetProperty("related_seqs").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal("user-1", info.GetProperty("group_key").GetString());
        Assert.Equal("5 events matching auth-failures from actor_id user-1 within 60 s", info.GetProperty("summary").GetString());
        Assert.Equal(AlertInfo.Read(alert), new AlertInfo("auth-failures", "5 events matching auth-failures from actor_id user-1 within 60 s", [1, 3, 5, 7, 9], "user-1"), new AlertInfoComparer());
    }

    [Fact]
    public void Events_older_than_the_window_no_longer_count()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var fired = new List<AuditEvent>();
        for (var i = 0; i < 4; i++)
        {
            fired.AddRange(engine.Process(Record(i + 1, s_t0.AddSeconds(i), Failure("user-1"))));
        }

        // 60 s after the first: the first has left the window.
        fired.AddRange(engine.Process(Record(5, s_t0.AddSeconds(60), Failure("user-1"))));
        Assert.Empty(fired);
        fired.AddRange(engine.Process(Record(6, s_t0.AddSeconds(60.5), Failure("user-1"))));
        Assert.Equal([2L, 3, 4, 5, 6], AlertInfo.Read(Assert.Single(fired))!.RelatedSeqs);
    }

    [Fact]
    public void Groups_are_per_tenant_and_an_open_alert_is_not_raised_again_while_its_group_keeps_failing()
    {
        var engine = new AlertEngine([BruteForce()], TimeProvider.System);
        var fired = new List<AuditEvent>();
        for (var i = 0; i < 14; i++)
        {
            fired.AddRange(engine.Process(Record(i + 1, s_t0.AddSeconds(i), Failure("user-1") with { TenantId = i < 4 ? "globex" : "acme" })));
        }

        var alert = Assert.Single(fired);
        Assert.Equal("acme", alert.TenantId);
        Assert.Equal([5L, 6, 7, 8, 9], AlertInfo.Read(alert)!.RelatedSeqs);
        Assert.Equal(1, engine.OpenAlerts);
    }

    [Fact]
    public void Without_auto_resolve_a_group_starts_counting_again_after_it_fired_and_never_resolves()
    {
        var rule = BruteForce();
        rule.AutoResolve = false;
        var engine = new AlertEngine([rule], TimeProvider.System);
        var fired = new List<AuditEvent>();
        for (var i = 0; i < 10; i++)
        {
            fired.AddRange(engine.Process(Record(i + 1, s_t0.AddSeconds(i), Failure("user-1"))));
        }

        fired.AddRange(engine.Process(Record(11, s_t0.AddHours(1), Failure("user-2"))));
        Assert.Equal([[1L, 2, 3, 4, 5], [6L, 7, 8, 9, 10]], fired.Select(a => AlertInfo.Read(a)!.RelatedSeqs));
        Assert.All(fired, a => Assert.Equal(AlertInfo.RaisedType, a.Type));
        Assert.Null(engine.NextResolution);
    }

    [Fact]
    public void A_single_critical_security_event_fires_at_once_and_alert_events_never_fire_rules()
    {
        var rules = new[]
        {
            new AlertRuleOptions { Name = "critical-security", Kind = "security", Severity = "critical", Filter = new SinkFilter { Severities = ["critical"], SecurityOnly = true } },
            new AlertRuleOptions { Name = "everything", Kind = "system", Severity = "info" },
        };
        var engine = new AlertEngine(rules, TimeProvider.System);

        var fired = engine.Process(Record(1, s_t0, Failure("user-1") with { Severity = "critical" }));
        Assert.Equal(["critical-security", "everything"], fired.Select(a => AlertInfo.Read(a)!.Rule));
        Assert.Equal("critical", fired[0].Severity);
        Assert.Equal("auth.failure by user-1 on customer_record record-1 (critical, failure)", AlertInfo.Read(fired[0])!.Summary);

        // The alerts come back through the feed: they must not fire anything.
        Assert.Empty(engine.Process(Record(2, s_t0, fired[0] with { Seq = null })));
        Assert.Empty(engine.Process(Record(3, s_t0, fired[1] with { Seq = null })));
    }

    [Fact]
    public void Saved_windows_restore_exactly_and_replays_give_the_same_alert_ids()
    {
        var first = new AlertEngine([BruteForce()], TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            Assert.Empty(first.Process(Record(i + 1, s_t0.AddSeconds(i), Failure("user-1"))));
        }

        var resumed = new AlertEngine([BruteForce()], TimeProvider.System);
        resumed.LoadState(first.SaveState());
        var replayed = new AlertEngine([BruteForce()], TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            Assert.Empty(replayed.Process(Record(i + 1, s_t0.AddSeconds(i), Failure("user-1"))));
        }

        var a = resumed.Process(Record(4, s_t0.AddSeconds(3), Failure("user-1"))).Concat(resumed.Process(Record(5, s_t0.AddSeconds(4), Failure("user-1")))).Single();
        var b = replayed.Process(Record(4, s_t0.AddSeconds(3), Failure("user-1"))).Concat(replayed.Process(Record(5, s_t0.AddSeconds(4), Failure("user-1")))).Single();
        Assert.Equal(a.Id, b.Id);
        Assert.Equal([1L, 2, 3, 4, 5], AlertInfo.Read(a)!.RelatedSeqs);
        Assert.NotEqual(AlertEngine.AlertId("auth-failures", "acme", "user-1", 1), AlertEngine.AlertId("auth-failures", "acme", "user-2", 1));
    }

    [Theory]
    [InlineData("source.ip", "10.1.2.1")]
    [InlineData("metadata.region", "eu-west-1")]
    [InlineData("metadata.missing", "")]
    [InlineData("type", "auth.failure")]
    public void Group_by_reads_top_level_source_and_metadata_fields(string field, string expected) =>
        Assert.Equal(expected, AlertEngine.GroupValue(LedgerFixture.Event(1) with { Type = "auth.failure" }, field));

    private static AuditEvent Failure(string actor) => LedgerFixture.Event(0) with { ActorId = actor, TargetId = "record-1", Severity = "info" };

    private static LedgerRecord Record(long seq, DateTimeOffset at, AuditEvent e) =>
        new(seq, (at - DateTimeOffset.UnixEpoch).Ticks / 10, new byte[32], new byte[32], JsonSerializer.SerializeToUtf8Bytes(e, AuditJsonContext.Default.AuditEvent), e);

    private sealed class AlertInfoComparer : IEqualityComparer<AlertInfo?>
    {
        public bool Equals(AlertInfo? x, AlertInfo? y) =>
            x is not null && y is not null && x.Rule == y.Rule && x.Summary == y.Summary && x.GroupKey == y.GroupKey && x.RelatedSeqs.SequenceEqual(y.RelatedSeqs);

        public int GetHashCode(AlertInfo? obj) => 0;
    }
}
