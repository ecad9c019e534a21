using AuditStream.Core.Tests.Validation;
using AuditStream.Events;
using AuditStream.Filters;
using static AuditStream.Core.Tests.Filters.Events;

namespace AuditStream.Core.Tests.Filters;

public sealed class CompiledFilterTests
{
    private static readonly FixedTimeProvider s_clock = new(Committed.AddMinutes(5));

    private static bool Matches(StreamFilter filter, AuditEvent e) => CompiledFilter.Compile(filter, s_clock).Matches(e);

    public static readonly Dictionary<string, (StreamFilter Filter, AuditEvent Event, bool Expected)> Dimensions = new()
    {
        ["event_types exact hit"] = (new() { EventTypes = ["auth.failure"] }, Login, true),
        ["event_types exact miss"] = (new() { EventTypes = ["auth.success"] }, Login, false),
        ["event_types OR within"] = (new() { EventTypes = ["auth.success", "auth.failure"] }, Login, true),
        ["event_types wildcard hit"] = (new() { EventTypes = ["auth.*"] }, Login, true),
        ["event_types wildcard deeper hit"] = (new() { EventTypes = ["auth.*"] }, Login with { Type = "auth.mfa.failure" }, true),
        ["event_types wildcard miss on bare prefix"] = (new() { EventTypes = ["auth.*"] }, Login with { Type = "auth" }, false),
        ["event_types wildcard miss on longer word"] = (new() { EventTypes = ["auth.*"] }, Login with { Type = "authz.denied" }, false),
        ["event_types wildcard is not a substring"] = (new() { EventTypes = ["failure.*"] }, Login, false),
        ["event_types miss on untyped event"] = (new() { EventTypes = ["auth.*"] }, Login with { Type = null }, false),
        ["severities hit"] = (new() { Severities = ["error", "warning"] }, Login, true),
        ["severities miss"] = (new() { Severities = ["critical"] }, Login, false),
        ["categories hit"] = (new() { Categories = ["security"] }, Login, true),
        ["categories miss"] = (new() { Categories = ["financial"] }, Login, false),
        ["actor_ids hit"] = (new() { ActorIds = ["user-1"] }, Login, true),
        ["actor_ids miss"] = (new() { ActorIds = ["user-2"] }, Login, false),
        ["actor_ids are case-sensitive"] = (new() { ActorIds = ["USER-1"] }, Login, false),
        ["target_ids hit"] = (new() { TargetIds = ["account-1"] }, Login, true),
        ["target_ids miss"] = (new() { TargetIds = ["account-2"] }, Login, false),
        ["target_ids miss when event has none"] = (new() { TargetIds = ["account-1"] }, Login with { TargetId = null }, false),
        ["compliance_only hit by tag"] = (new() { ComplianceOnly = true }, Consent with { Category = "call" }, true),
        ["compliance_only hit by category"] = (new() { ComplianceOnly = true }, Consent with { Compliance = null }, true),
        ["compliance_only miss"] = (new() { ComplianceOnly = true }, Login, false),
        ["compliance_only miss with empty tags"] = (new() { ComplianceOnly = true }, Login with { Compliance = [] }, false),
        ["security_only hit by category"] = (new() { SecurityOnly = true }, Login with { Type = "user.locked" }, true),
        ["security_only hit by auth type"] = (new() { SecurityOnly = true }, Consent with { Type = "auth.success" }, true),
        ["security_only hit by security type"] = (new() { SecurityOnly = true }, Consent with { Type = "security.incident" }, true),
        ["security_only miss"] = (new() { SecurityOnly = true }, Consent, false),
        ["security_only miss on authentication type"] = (new() { SecurityOnly = true }, Consent with { Type = "authentication.ok" }, false),
        ["time start inclusive"] = (new() { TimeRange = new() { Start = Committed } }, Login, true),
        ["time start after"] = (new() { TimeRange = new() { Start = Committed.AddTicks(10) } }, Login, false),
        ["time end exclusive"] = (new() { TimeRange = new() { End = Committed } }, Login, false),
        ["time end after"] = (new() { TimeRange = new() { End = Committed.AddTicks(10) } }, Login, true),
        ["time window hit"] = (new() { TimeRange = new() { Start = Committed.AddHours(-1), End = Committed.AddHours(1) } }, Login, true),
        ["time uses timestamp, not occurred_at"] = (new() { TimeRange = new() { End = Committed.AddSeconds(-1) } }, Login, false),
        ["time falls back to occurred_at"] = (new() { TimeRange = new() { End = Committed.AddSeconds(-1) } }, Login with { Timestamp = null }, true),
        ["time miss without any time"] = (new() { TimeRange = new() { Start = Committed.AddYears(-1) } }, Login with { Timestamp = null, OccurredAt = null }, false),
        ["relative 1h hit"] = (new() { TimeRange = new() { Relative = "1h" } }, Login, true),
        ["relative 1h miss"] = (new() { TimeRange = new() { Relative = "1h" } }, Login with { Timestamp = Committed.AddMinutes(-56) }, false),
        ["relative 24h hit"] = (new() { TimeRange = new() { Relative = "24h" } }, Login with { Timestamp = Committed.AddHours(-23) }, true),
        ["relative 24h miss"] = (new() { TimeRange = new() { Relative = "24h" } }, Login with { Timestamp = Committed.AddHours(-24) }, false),
        ["relative 7d hit"] = (new() { TimeRange = new() { Relative = "7d" } }, Login with { Timestamp = Committed.AddDays(-7).AddMinutes(6) }, true),
        ["relative 7d miss"] = (new() { TimeRange = new() { Relative = "7d" } }, Login with { Timestamp = Committed.AddDays(-7).AddMinutes(4) }, false),
        ["relative 30d miss"] = (new() { TimeRange = new() { Relative = "30d" } }, Login with { Timestamp = Committed.AddDays(-31) }, false),
        ["empty lists match all"] = (new() { EventTypes = [], Severities = [], Categories = [], ActorIds = [], TargetIds = [], Match = [] }, Login, true),
        ["AND across fields hit"] = (new() { EventTypes = ["auth.*"], Severities = ["warning"], ActorIds = ["user-1"] }, Login, true),
        ["AND across fields miss"] = (new() { EventTypes = ["auth.*"], Severities = ["warning"], ActorIds = ["user-2"] }, Login, false),
    };

    public static TheoryData<string> DimensionNames => [.. Dimensions.Keys];

    [Theory]
    [MemberData(nameof(DimensionNames))]
    public void Each_dimension_matches_and_rejects(string name)
    {
        var (filter, e, expected) = Dimensions[name];

        Assert.Equal(expected, Matches(filter, e));
    }

    [Fact]
    public void A_relative_start_is_fixed_when_the_filter_is_compiled()
    {
        var clock = new FixedTimeProvider(Committed.AddMinutes(30));
        var filter = CompiledFilter.Compile(new() { TimeRange = new() { Relative = "1h" } }, clock);

        clock.Advance(TimeSpan.FromHours(5));

        Assert.Equal(Committed.AddMinutes(-30), filter.Start);
        Assert.True(filter.Matches(Login));
        Assert.False(filter.Matches(Login with { Timestamp = Committed.AddMinutes(-31) }));
    }

    [Fact]
    public void An_absolute_range_is_exposed_for_replay()
    {
        var filter = CompiledFilter.Compile(new() { TimeRange = new() { Start = Committed.AddDays(-1), End = Committed } }, s_clock);

        Assert.Equal(Committed.AddDays(-1), filter.Start);
        Assert.Equal(Committed, filter.End);
    }

    [Fact]
    public void The_index_keys_are_exposed_and_null_when_unconstrained()
    {
        var filter = CompiledFilter.Compile(new() { EventTypes = ["auth.failure", "security.*"], Categories = ["security"], Severities = ["error"] }, s_clock);
        var open = CompiledFilter.Compile(new() { ActorIds = ["user-1"] }, s_clock);

        Assert.Equal(["auth.failure"], filter.EventTypesOrNull!);
        Assert.Equal(["security."], filter.EventTypePrefixesOrNull!);
        Assert.Equal(["security"], filter.CategoriesOrNull!);
        Assert.Equal(["error"], filter.SeveritiesOrNull!);
        Assert.False(filter.MatchesAll);
        Assert.Null(open.EventTypesOrNull);
        Assert.Null(open.EventTypePrefixesOrNull);
        Assert.Null(open.CategoriesOrNull);
        Assert.Null(open.SeveritiesOrNull);
        Assert.False(open.MatchesAll);
    }

    [Fact]
    public void Only_wildcards_give_an_empty_exact_set_and_prefixes()
    {
        var filter = CompiledFilter.Compile(new() { EventTypes = ["auth.*"] }, s_clock);

        Assert.Empty(filter.EventTypesOrNull!);
        Assert.Equal(["auth."], filter.EventTypePrefixesOrNull!);
    }

    [Fact]
    public void The_empty_filter_matches_all_and_says_so()
    {
        Assert.True(CompiledFilter.All.MatchesAll);
        Assert.True(CompiledFilter.Compile(StreamFilter.All, s_clock).MatchesAll);
        Assert.True(CompiledFilter.All.Matches(new AuditEvent()));
    }

    [Fact]
    public void Compiling_an_invalid_filter_throws_naming_the_problem()
    {
        var exception = Assert.Throws<ArgumentException>(() => CompiledFilter.Compile(new() { Severities = ["loud"] }, s_clock));

        Assert.Contains("filters.severities[0] must be one of critical, error, warning, info", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matching_lists_flags_time_and_metadata_equality_allocates_nothing()
    {
        var filter = CompiledFilter.Compile(
            new()
            {
                EventTypes = ["auth.*", "consent.granted"],
                Severities = ["warning"],
                Categories = ["security"],
                ActorIds = ["user-1"],
                SecurityOnly = true,
                TimeRange = new() { Relative = "1h" },
                Match =
                [
                    MatchPredicate.Create("metadata.region", "eq", "eu-west"),
                    MatchPredicate.In("metadata.geo.country", "DE", "FR"),
                    MatchPredicate.Create("metadata.attempts", "gt", "5"),
                    MatchPredicate.Create("seq", "lt", "100"),
                    MatchPredicate.Create("timestamp", "gt", "2026-01-01T00:00:00Z"),
                    MatchPredicate.Create("source.ip", "prefix", "10."),
                ],
            },
            s_clock);
        Assert.True(filter.Matches(Login));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            filter.Matches(Login);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
