using System.Text.Json;
using AuditStream.Filters;
using AuditStream.Validation;
using static AuditStream.Core.Tests.Filters.Events;

namespace AuditStream.Core.Tests.Filters;

public sealed class FilterValidatorTests
{
    private const string OpRule = "must be one of eq, neq, in, prefix, exists, gt, lt";

    private static List<ValidationError> Errors(StreamFilter filter, int maxValues = 50)
    {
        var errors = new List<ValidationError>();
        var ok = FilterValidator.Validate(filter, maxValues, errors);
        Assert.Equal(errors.Count == 0, ok);
        return errors;
    }

    public static readonly Dictionary<string, (StreamFilter Filter, string Field, string Rule)> Cases = new()
    {
        ["bad severity"] = (new() { Severities = ["error", "critical", "loud"] }, "filters.severities[2]", "must be one of critical, error, warning, info"),
        ["bad event type"] = (new() { EventTypes = ["Auth.Failure"] }, "filters.event_types[0]", EventTypeRule),
        ["star alone"] = (new() { EventTypes = ["*"] }, "filters.event_types[0]", EventTypeRule),
        ["glob without dot"] = (new() { EventTypes = ["auth*"] }, "filters.event_types[0]", EventTypeRule),
        ["inner wildcard"] = (new() { EventTypes = ["auth.*.failure"] }, "filters.event_types[0]", EventTypeRule),
        ["bad category"] = (new() { Categories = ["Security"] }, "filters.categories[0]", "must be lower-case letters, digits, _ or - (at most 64 chars)"),
        ["empty actor"] = (new() { ActorIds = ["u1", ""] }, "filters.actor_ids[1]", "must not be empty"),
        ["long target"] = (new() { TargetIds = [new string('t', 257)] }, "filters.target_ids[0]", "must be at most 256 characters"),
        ["bad relative"] = (new() { TimeRange = new() { Relative = "2h" } }, "filters.time_range.relative", "must be one of 1h, 24h, 7d, 30d"),
        ["relative with start"] = (new() { TimeRange = new() { Relative = "1h", Start = Committed } }, "filters.time_range", "must have either start and end, or relative, not both"),
        ["end before start"] = (new() { TimeRange = new() { Start = Committed, End = Committed.AddHours(-1) } }, "filters.time_range.end", "must be after start"),
        ["empty window"] = (new() { TimeRange = new() { Start = Committed, End = Committed } }, "filters.time_range.end", "must be after start"),
        ["bad op"] = (new() { Match = [MatchPredicate.Create("type", "contains", "x")] }, "filters.match[0].op", OpRule),
        ["op missing"] = (new() { Match = [new() { Field = "type" }] }, "filters.match[0].op", "is required"),
        ["field missing"] = (new() { Match = [new() { Op = "exists" }] }, "filters.match[0].field", "is required"),
        ["unknown field"] = (new() { Match = [MatchPredicate.Create("region", "eq", "eu")] }, "filters.match[0].field", "must be an event field (type, severity, category, actor_id, …), source.<name> or metadata.<path>"),
        ["unknown source field"] = (new() { Match = [MatchPredicate.Create("source.host", "eq", "x")] }, "filters.match[0].field", "must be an event field (type, severity, category, actor_id, …), source.<name> or metadata.<path>"),
        ["empty metadata key"] = (new() { Match = [MatchPredicate.Create("metadata..a", "eq", "x")] }, "filters.match[0].field", "must be an event field (type, severity, category, actor_id, …), source.<name> or metadata.<path>"),
        ["pii"] = (new() { Match = [MatchPredicate.Create("pii.email", "exists")] }, "filters.match[0].field", "cannot be filtered on: pii is personal data that is masked for most roles"),
        ["value missing"] = (new() { Match = [MatchPredicate.Create("type", "eq")] }, "filters.match[0].value", "is required"),
        ["object value"] = (new() { Match = [MatchPredicate.Create("type", "eq", Json("{}"))] }, "filters.match[0].value", "must be a string, number or boolean"),
        ["in with a string"] = (new() { Match = [MatchPredicate.Create("type", "in", "a")] }, "filters.match[0].value", "must be a non-empty array of strings, numbers or booleans"),
        ["in with an empty array"] = (new() { Match = [MatchPredicate.Create("type", "in", Json("[]"))] }, "filters.match[0].value", "must be a non-empty array of strings, numbers or booleans"),
        ["in with nested array"] = (new() { Match = [MatchPredicate.Create("type", "in", Json("[[1]]"))] }, "filters.match[0].value", "must be a non-empty array of strings, numbers or booleans"),
        ["exists with a string"] = (new() { Match = [MatchPredicate.Create("type", "exists", "yes")] }, "filters.match[0].value", "must be true, false or absent for exists"),
        ["null predicate"] = (new() { Match = [MatchPredicate.Create("type", "exists"), null!] }, "filters.match[1]", "must not be null"),
    };

    private const string EventTypeRule = "must be an event type like consent.granted or a prefix like auth.* (lower-case letters, digits, _ and -, segments separated by dots, at most 128 chars)";

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_problem_names_its_field_under_filters(string name)
    {
        var (filter, field, rule) = Cases[name];

        Assert.Equal([new ValidationError(field, rule)], Errors(filter));
    }

    [Fact]
    public void A_filter_using_every_field_is_valid()
    {
        var filter = new StreamFilter
        {
            EventTypes = ["auth.*", "consent.granted"],
            Severities = ["critical", "error", "warning", "info"],
            Categories = ["security"],
            ActorIds = ["user-1"],
            TargetIds = ["account-1"],
            TimeRange = new() { Start = Committed, End = Committed.AddHours(1) },
            ComplianceOnly = true,
            SecurityOnly = true,
            Match =
            [
                MatchPredicate.Create("metadata.a.b", "eq", "x"),
                MatchPredicate.Create("source.ip", "neq", "10.0.0.1"),
                MatchPredicate.In("severity", "error"),
                MatchPredicate.Create("seq", "gt", Json("5")),
                MatchPredicate.Create("occurred_at", "lt", "2026-01-01T00:00:00Z"),
                MatchPredicate.Create("metadata.flag", "exists", Json("false")),
                MatchPredicate.Create("compliance", "prefix", "g"),
            ],
        };

        Assert.Empty(Errors(filter));
    }

    [Fact]
    public void Every_value_in_every_list_counts_towards_the_limit()
    {
        var filter = new StreamFilter
        {
            EventTypes = [.. Enumerable.Range(0, 20).Select(i => $"t.e{i}")],
            ActorIds = [.. Enumerable.Range(0, 20).Select(i => $"u{i}")],
            Severities = ["info", "error"],
            Match = [MatchPredicate.In("metadata.region", "a", "b", "c", "d", "e", "f", "g"), MatchPredicate.Create("type", "exists")],
        };

        Assert.Equal(50, FilterValidator.CountValues(filter));
        Assert.Empty(Errors(filter));
        Assert.Equal(
            [new ValidationError("filters", "has 51 values; at most 50 are allowed (MaxFiltersPerClient)")],
            Errors(filter with { TargetIds = ["x"] }));
    }

    [Fact]
    public void All_problems_are_reported_together()
    {
        var errors = Errors(new()
        {
            Severities = ["loud"],
            TimeRange = new() { Relative = "1y" },
            Match = [MatchPredicate.Create("type", "like", "x")],
        });

        Assert.Equal(["filters.severities[0]", "filters.time_range.relative", "filters.match[0].op"], errors.Select(e => e.Field));
    }

    [Fact]
    public void The_wire_form_is_snake_case()
    {
        const string json = """
            {"event_types":["auth.*"],"severities":["error"],"categories":["security"],"actor_ids":["u1"],"target_ids":["t1"],
             "time_range":{"start":"2026-03-01T00:00:00Z","end":"2026-03-02T00:00:00Z"},"compliance_only":true,"security_only":true,
             "match":[{"field":"metadata.region","op":"in","value":["eu","us"]}]}
            """;

        var filter = JsonSerializer.Deserialize(json, StreamFilterJsonContext.Default.StreamFilter)!;

        Assert.Equal(["auth.*"], filter.EventTypes!);
        Assert.Equal(["u1"], filter.ActorIds!);
        Assert.Equal(["t1"], filter.TargetIds!);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), filter.TimeRange!.End);
        Assert.True(filter.ComplianceOnly && filter.SecurityOnly);
        Assert.Equal("in", filter.Match![0].Op);
        Assert.Equal(2, filter.Match[0].Value!.Value.GetArrayLength());
        Assert.Empty(Errors(filter));

        var written = JsonSerializer.Serialize(new StreamFilter { TimeRange = new() { Relative = "1h" }, SecurityOnly = true }, StreamFilterJsonContext.Default.StreamFilter);
        Assert.Equal("""{"time_range":{"relative":"1h"},"security_only":true}""", written);
    }

    [Theory]
    [InlineData("""{"severity":["error"]}""", "filters.severity", "is not a known field")]
    [InlineData("""{"match":[{"field":"type","op":"eq","value":"x","negate":true}]}""", "filters.match[0].negate", "is not a known field")]
    [InlineData("""{"severities":"error"}""", "filters.severities", "has the wrong JSON type")]
    [InlineData("""{"compliance_only":"yes"}""", "filters.compliance_only", "has the wrong JSON type")]
    [InlineData("""{"time_range":{"start":"yesterday"}}""", "filters.time_range.start", "must be an RFC 3339 timestamp")]
    [InlineData("""["error"]""", "filters", "must be a JSON object")]
    public void Parse_errors_name_the_field_under_filters(string json, string field, string rule)
    {
        var exception = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, StreamFilterJsonContext.Default.StreamFilter));

        Assert.Equal(new ValidationError(field, rule), FilterValidator.ParseError(exception));
    }
}
