using System.Text.Json;
using AuditStream.Filters;
using AuditStream.Validation;
using static AuditStream.Core.Tests.Filters.Events;

namespace AuditStream.Core.Tests.Filters;

public sealed class StreamFilterQueryTests
{
    private static (StreamFilter Filter, List<ValidationError> Errors) Parse(params (string Key, string? Value)[] query)
    {
        var errors = new List<ValidationError>();
        var filter = StreamFilter.FromQuery(query.Select(p => KeyValuePair.Create(p.Key, p.Value)), errors);
        return (filter, errors);
    }

    [Fact]
    public void Every_parameter_is_read()
    {
        var (filter, errors) = Parse(
            ("event_types", "auth.*,consent.granted"),
            ("severities", "error,critical"),
            ("categories", "security"),
            ("actor_ids", "u1, u2"),
            ("target_ids", "t1"),
            ("start", "2026-03-01T00:00:00Z"),
            ("end", "2026-03-01T02:00:00+01:00"),
            ("compliance_only", "true"),
            ("security_only", "1"),
            ("match", "metadata.region:eq:eu"),
            ("token", "ignored"),
            ("since_seq", "7"));

        Assert.Empty(errors);
        Assert.Equal(["auth.*", "consent.granted"], filter.EventTypes!);
        Assert.Equal(["error", "critical"], filter.Severities!);
        Assert.Equal(["security"], filter.Categories!);
        Assert.Equal(["u1", "u2"], filter.ActorIds!);
        Assert.Equal(["t1"], filter.TargetIds!);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), filter.TimeRange!.Start);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 1, 0, 0, TimeSpan.Zero), filter.TimeRange.End);
        Assert.True(filter.ComplianceOnly);
        Assert.True(filter.SecurityOnly);
        var predicate = Assert.Single(filter.Match!);
        Assert.Equal(("metadata.region", "eq", "eu"), (predicate.Field, predicate.Op, predicate.Value!.Value.GetString()));
    }

    [Fact]
    public void Repeated_list_parameters_are_concatenated_and_empty_items_skipped()
    {
        var (filter, errors) = Parse(("severities", "error,,"), ("severities", "warning"), ("categories", ""));

        Assert.Empty(errors);
        Assert.Equal(["error", "warning"], filter.Severities!);
        Assert.Empty(filter.Categories!);
        Assert.True(CompiledFilter.Compile(filter, TimeProvider.System).Matches(Login));
    }

    [Fact]
    public void Relative_is_read_and_checked_by_the_validator()
    {
        var (filter, errors) = Parse(("relative", "2h"));
        Assert.Empty(errors);
        Assert.Equal("2h", filter.TimeRange!.Relative);

        FilterValidator.Validate(filter, 50, errors);
        Assert.Equal([new ValidationError("filters.time_range.relative", "must be one of 1h, 24h, 7d, 30d")], errors);
    }

    [Fact]
    public void A_bare_flag_means_true()
    {
        var (filter, errors) = Parse(("security_only", null), ("compliance_only", ""));

        Assert.Empty(errors);
        Assert.True(filter.SecurityOnly);
        Assert.True(filter.ComplianceOnly);
    }

    [Fact]
    public void Match_values_keep_their_colons()
    {
        var (filter, _) = Parse(("match", "timestamp:gt:2026-03-01T00:00:00Z"));

        Assert.Equal("2026-03-01T00:00:00Z", filter.Match![0].Value!.Value.GetString());
    }

    [Fact]
    public void Match_in_splits_on_commas_and_exists_needs_no_value()
    {
        var (filter, errors) = Parse(("match", "metadata.region:in:eu-west, us"), ("match", "metadata.geo:exists"), ("match", "subject_id:exists:false"));

        Assert.Empty(errors);
        Assert.Equal(["eu-west", "us"], filter.Match![0].Value!.Value.EnumerateArray().Select(v => v.GetString()));
        Assert.Null(filter.Match[1].Value);
        Assert.Equal(JsonValueKind.False, filter.Match[2].Value!.Value.ValueKind);
        Assert.True(CompiledFilter.Compile(filter, TimeProvider.System).Matches(Login));
    }

    [Fact]
    public void Match_operators_are_checked_by_the_validator()
    {
        var (filter, errors) = Parse(("match", "type:like:auth"));
        Assert.Empty(errors);

        FilterValidator.Validate(filter, 50, errors);

        Assert.Equal([new ValidationError("filters.match[0].op", "must be one of eq, neq, in, prefix, exists, gt, lt")], errors);
    }

    [Theory]
    [InlineData("start", "yesterday", "filters.start", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("start", "2026-03-01T00:00:00", "filters.start", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("end", "2026-03-01", "filters.end", "must be an RFC 3339 timestamp with Z or an offset, like 2026-01-31T12:00:00Z")]
    [InlineData("compliance_only", "yes", "filters.compliance_only", "must be true or false")]
    [InlineData("security_only", "TRUE", "filters.security_only", "must be true or false")]
    [InlineData("match", "metadata.region", "filters.match[0]", "must be field:op:value, like metadata.region:eq:eu")]
    [InlineData("match", ":eq:x", "filters.match[0]", "must be field:op:value, like metadata.region:eq:eu")]
    [InlineData("filters", "{\"severity\":1}", "filters.severity", "is not a known field")]
    public void Malformed_parameters_are_reported(string key, string value, string field, string rule)
    {
        var (_, errors) = Parse((key, value));

        Assert.Equal([new ValidationError(field, rule)], errors);
    }

    [Fact]
    public void The_index_of_a_bad_match_counts_every_match_parameter()
    {
        var (_, errors) = Parse(("match", "type:eq:x"), ("match", "oops"));

        Assert.Equal("filters.match[1]", Assert.Single(errors).Field);
    }

    [Fact]
    public void The_whole_filter_may_come_as_json()
    {
        var (filter, errors) = Parse(("filters", """{"severities":["error"],"time_range":{"relative":"24h"}}"""), ("token", "x"));

        Assert.Empty(errors);
        Assert.Equal(["error"], filter.Severities!);
        Assert.Equal("24h", filter.TimeRange!.Relative);
    }

    [Fact]
    public void Json_filters_cannot_be_mixed_with_parameters()
    {
        var (_, errors) = Parse(("filters", """{"severities":["error"]}"""), ("categories", "security"));

        Assert.Equal([new ValidationError("filters", "cannot be combined with individual filter parameters")], errors);
    }

    [Fact]
    public void No_parameters_give_the_filter_that_matches_all()
    {
        var (filter, errors) = Parse(("token", "abc"));

        Assert.Empty(errors);
        Assert.True(CompiledFilter.Compile(filter, TimeProvider.System).MatchesAll);
    }
}
