using AuditStream.Events;
using AuditStream.Filters;
using CsCheck;

namespace AuditStream.Core.Tests.Filters;

public sealed class FilterPropertyTests
{
    private static readonly TimeProvider s_clock = new Validation.FixedTimeProvider(Events.Committed);

    private static readonly Gen<string> s_type = Gen.OneOf("auth.failure", "auth.mfa.ok", "consent.granted", "data.accessed", "security.incident", "call.ended");
    private static readonly Gen<string> s_severity = Gen.OneOf("critical", "error", "warning", "info");
    private static readonly Gen<string> s_category = Gen.OneOf("security", "compliance", "financial", "system");
    private static readonly Gen<string> s_actor = Gen.OneOf("u1", "u2", "u3");
    private static readonly Gen<string> s_region = Gen.OneOf("eu", "us", "ap");

    private static readonly Gen<AuditEvent> s_event = Gen.Select(
        s_type, s_severity, s_category, s_actor.Null(0.2), s_actor.Null(0.2), Gen.Int[-72, 72], s_region.Null(0.3), Gen.Int[0, 20],
        (type, severity, category, actor, target, hours, region, attempts) => new AuditEvent
        {
            Type = type,
            Severity = severity,
            Category = category,
            ActorId = actor,
            TargetId = target,
            Seq = attempts + 1,
            Timestamp = Events.Committed.AddHours(hours),
            Compliance = attempts % 3 == 0 ? ["gdpr"] : null,
            Metadata = region is null ? null : Events.Json($$"""{"region":"{{region}}","attempts":{{attempts}}}"""),
        });

    private static readonly Gen<MatchPredicate> s_predicate = Gen.OneOf(
        s_region.Select(r => MatchPredicate.Create("metadata.region", "eq", r)),
        s_region.Select(r => MatchPredicate.Create("metadata.region", "neq", r)),
        s_region.Array[1, 2].Select(r => MatchPredicate.In("metadata.region", r)),
        Gen.Int[0, 20].Select(n => MatchPredicate.Create("metadata.attempts", "gt", n.ToString())),
        Gen.Int[0, 20].Select(n => MatchPredicate.Create("seq", "lt", n.ToString())),
        Gen.OneOf("a", "au", "c").Select(p => MatchPredicate.Create("type", "prefix", p)),
        Gen.Bool.Select(b => MatchPredicate.Create("metadata.region", "exists", Events.Json(b ? "true" : "false"))));

    /// <summary>Each dimension alone, applied to a filter; a generator of "F and one more constraint".</summary>
    private static readonly Gen<Func<StreamFilter, StreamFilter>> s_dimension = Gen.OneOf(
        s_type.Array[1, 3].Select(t => (Func<StreamFilter, StreamFilter>)(f => f with { EventTypes = t })),
        Gen.OneOf("auth.*", "security.*", "consent.*").Array[1, 2].Select(t => (Func<StreamFilter, StreamFilter>)(f => f with { EventTypes = t })),
        s_severity.Array[1, 3].Select(s => (Func<StreamFilter, StreamFilter>)(f => f with { Severities = s })),
        s_category.Array[1, 3].Select(c => (Func<StreamFilter, StreamFilter>)(f => f with { Categories = c })),
        s_actor.Array[1, 2].Select(a => (Func<StreamFilter, StreamFilter>)(f => f with { ActorIds = a })),
        s_actor.Array[1, 2].Select(a => (Func<StreamFilter, StreamFilter>)(f => f with { TargetIds = a })),
        Gen.Const((Func<StreamFilter, StreamFilter>)(f => f with { ComplianceOnly = true })),
        Gen.Const((Func<StreamFilter, StreamFilter>)(f => f with { SecurityOnly = true })),
        Gen.OneOf("1h", "24h", "7d", "30d").Select(r => (Func<StreamFilter, StreamFilter>)(f => f with { TimeRange = new() { Relative = r } })),
        Gen.Int[-72, 72].Select(h => (Func<StreamFilter, StreamFilter>)(f => f with { TimeRange = new() { Start = Events.Committed.AddHours(h) } })),
        s_predicate.Select(p => (Func<StreamFilter, StreamFilter>)(f => f with { Match = [.. f.Match ?? [], p] })));

    private static readonly Gen<StreamFilter> s_filter = s_dimension.Array[0, 4].Select(dims => dims.Aggregate(StreamFilter.All, (f, d) => d(f)));

    [Fact]
    public void A_filter_with_every_field_empty_matches_every_event()
    {
        var empty = CompiledFilter.Compile(new() { EventTypes = [], Severities = [], Categories = [], ActorIds = [], TargetIds = [], Match = [] }, s_clock);

        s_event.Sample(e => Assert.True(empty.Matches(e) && CompiledFilter.All.Matches(e)));
    }

    [Fact]
    public void Adding_a_dimension_never_matches_more()
    {
        Gen.Select(s_filter, s_dimension, s_event.Array[20]).Sample((filter, dimension, events) =>
        {
            var narrower = dimension(filter);
            if (ReplacesSameField(filter, narrower))
            {
                return; // the dimension replaced a list instead of adding one: not an AND
            }

            var wide = CompiledFilter.Compile(filter, s_clock);
            var narrow = CompiledFilter.Compile(narrower, s_clock);
            var alone = CompiledFilter.Compile(dimension(StreamFilter.All), s_clock);
            foreach (var e in events)
            {
                Assert.True(!narrow.Matches(e) || wide.Matches(e), "the narrower filter matched an event the wider one did not");
                Assert.Equal(wide.Matches(e) && alone.Matches(e), narrow.Matches(e));
            }
        });
    }

    private static bool ReplacesSameField(StreamFilter before, StreamFilter after) =>
        !ReferenceEquals(before.EventTypes, after.EventTypes) && before.EventTypes is not null
        || !ReferenceEquals(before.Severities, after.Severities) && before.Severities is not null
        || !ReferenceEquals(before.Categories, after.Categories) && before.Categories is not null
        || !ReferenceEquals(before.ActorIds, after.ActorIds) && before.ActorIds is not null
        || !ReferenceEquals(before.TargetIds, after.TargetIds) && before.TargetIds is not null
        || !Equals(before.TimeRange, after.TimeRange) && before.TimeRange is not null;
}
