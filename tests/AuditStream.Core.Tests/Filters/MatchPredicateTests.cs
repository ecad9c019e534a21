using AuditStream.Core.Tests.Validation;
using AuditStream.Events;
using AuditStream.Filters;
using static AuditStream.Core.Tests.Filters.Events;

namespace AuditStream.Core.Tests.Filters;

public sealed class MatchPredicateTests
{
    private static readonly FixedTimeProvider s_clock = new(Committed);

    private static bool Matches(MatchPredicate predicate, AuditEvent? e = null) =>
        CompiledFilter.Compile(new() { Match = [predicate] }, s_clock).Matches(e ?? Login);

    [Theory]
    [InlineData("type", "eq", "auth.failure", true)]
    [InlineData("type", "eq", "auth", false)]
    [InlineData("severity", "neq", "info", true)]
    [InlineData("severity", "neq", "warning", false)]
    [InlineData("outcome", "prefix", "fail", true)]
    [InlineData("outcome", "prefix", "succ", false)]
    [InlineData("tenant_id", "eq", "acme", true)]
    [InlineData("actor_id", "gt", "user-0", true)]
    [InlineData("actor_id", "lt", "user-0", false)]
    [InlineData("source.service", "eq", "sso", true)]
    [InlineData("source.ip", "prefix", "10.0.", true)]
    [InlineData("source.ip", "prefix", "192.", false)]
    [InlineData("metadata.region", "eq", "eu-west", true)]
    [InlineData("metadata.region", "eq", "EU-WEST", false)]
    [InlineData("metadata.region", "neq", "us-east", true)]
    [InlineData("metadata.region", "prefix", "eu-", true)]
    [InlineData("metadata.region", "prefix", "us-", false)]
    [InlineData("metadata.geo.country", "eq", "DE", true)]
    [InlineData("metadata.geo.country", "eq", "FR", false)]
    [InlineData("metadata.items.1.sku", "eq", "b", true)]
    [InlineData("metadata.items.2.sku", "eq", "b", false)]
    [InlineData("metadata.items.x.sku", "eq", "b", false)]
    [InlineData("metadata.mfa", "eq", "false", true)]
    [InlineData("metadata.mfa", "eq", "true", false)]
    [InlineData("metadata.attempts", "eq", "7", true)]
    [InlineData("metadata.attempts", "eq", "7.0", true)]
    [InlineData("metadata.ratio", "eq", "0.5", true)]
    [InlineData("metadata.missing", "eq", "x", false)]
    [InlineData("metadata.missing", "neq", "x", true)]
    [InlineData("metadata.note", "eq", "null", false)]
    [InlineData("metadata.geo", "eq", "DE", false)]
    [InlineData("seq", "eq", "42", true)]
    [InlineData("id", "eq", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", true)]
    [InlineData("id", "prefix", "0193a1b2", true)]
    [InlineData("compliance", "eq", "gdpr", false)]
    [InlineData("compliance", "neq", "gdpr", true)]
    public void String_operands_compare_as_documented(string field, string op, string value, bool expected)
    {
        Assert.Equal(expected, Matches(MatchPredicate.Create(field, op, value)));
    }

    [Theory]
    [InlineData("metadata.attempts", "gt", "6", true)]
    [InlineData("metadata.attempts", "gt", "7", false)]
    [InlineData("metadata.attempts", "gt", "10", false)]
    [InlineData("metadata.attempts", "lt", "10", true)]
    [InlineData("metadata.ratio", "lt", "0.75", true)]
    [InlineData("metadata.ratio", "gt", "1e-3", true)]
    [InlineData("seq", "gt", "9", true)]
    [InlineData("seq", "lt", "100", true)]
    [InlineData("seq", "gt", "42", false)]
    public void Numbers_compare_numerically(string field, string op, string value, bool expected)
    {
        Assert.Equal(expected, Matches(MatchPredicate.Create(field, op, value)));
    }

    [Theory]
    [InlineData("gt", "9", false)]
    [InlineData("lt", "9", true)]
    [InlineData("gt", "1", true)]
    public void Strings_compare_ordinally_even_when_they_look_like_numbers(string op, string value, bool expected)
    {
        // metadata.code is the JSON string "10": "10" < "9" ordinally.
        Assert.Equal(expected, Matches(MatchPredicate.Create("metadata.code", op, value)));
    }

    [Fact]
    public void A_json_number_operand_compares_with_a_number_field()
    {
        Assert.True(Matches(MatchPredicate.Create("metadata.attempts", "gt", Json("6.5"))));
        Assert.False(Matches(MatchPredicate.Create("metadata.attempts", "eq", Json("8"))));
        Assert.True(Matches(MatchPredicate.Create("metadata.mfa", "eq", Json("false"))));
    }

    [Theory]
    [InlineData("timestamp", "gt", "2026-03-01T11:59:59Z", true)]
    [InlineData("timestamp", "gt", "2026-03-01T12:00:00Z", false)]
    [InlineData("timestamp", "eq", "2026-03-01T12:00:00Z", true)]
    [InlineData("timestamp", "eq", "2026-03-01T14:00:00+02:00", true)]
    [InlineData("timestamp", "lt", "2026-03-01T12:00:00.000001Z", true)]
    [InlineData("timestamp", "prefix", "2026-03-01T12:00:00.000000Z", true)]
    [InlineData("timestamp", "prefix", "2026-03", true)]
    [InlineData("timestamp", "gt", "2026-02", true)]
    [InlineData("occurred_at", "lt", "2026-03-01T12:00:00Z", true)]
    [InlineData("occurred_at", "lt", "2026-03-01T11:59:58Z", false)]
    [InlineData("metadata.at", "gt", "2026-01-31T23:59:59Z", true)]
    [InlineData("metadata.at", "lt", "2026-01-31T23:59:59Z", false)]
    public void Timestamps_compare_as_instants_or_as_ledger_format_text(string field, string op, string value, bool expected)
    {
        Assert.Equal(expected, Matches(MatchPredicate.Create(field, op, value)));
    }

    [Theory]
    [InlineData("metadata.region", true)]
    [InlineData("metadata.geo", true)]
    [InlineData("metadata.mfa", true)]
    [InlineData("metadata.note", false)]
    [InlineData("metadata.missing", false)]
    [InlineData("target_id", true)]
    [InlineData("subject_id", false)]
    [InlineData("source", true)]
    [InlineData("source.user_agent", false)]
    [InlineData("compliance", false)]
    [InlineData("seq", true)]
    [InlineData("id", true)]
    public void Exists_is_true_for_present_non_null_fields(string field, bool present)
    {
        Assert.Equal(present, Matches(MatchPredicate.Create(field, "exists")));
        Assert.Equal(present, Matches(MatchPredicate.Create(field, "exists", Json("true"))));
        Assert.Equal(!present, Matches(MatchPredicate.Create(field, "exists", Json("false"))));
    }

    [Fact]
    public void In_matches_any_listed_value()
    {
        Assert.True(Matches(MatchPredicate.In("metadata.region", "us-east", "eu-west")));
        Assert.False(Matches(MatchPredicate.In("metadata.region", "us-east", "ap-south")));
        Assert.True(Matches(MatchPredicate.In("severity", "error", "warning")));
        Assert.True(Matches(MatchPredicate.Create("metadata.attempts", "in", Json("[1, 7.0]"))));
        Assert.False(Matches(MatchPredicate.In("metadata.missing", "x")));
    }

    [Fact]
    public void Compliance_tags_match_when_any_tag_does()
    {
        Assert.True(Matches(MatchPredicate.Create("compliance", "eq", "tcpa"), Consent));
        Assert.False(Matches(MatchPredicate.Create("compliance", "neq", "tcpa"), Consent));
        Assert.True(Matches(MatchPredicate.In("compliance", "sox", "gdpr"), Consent));
        Assert.True(Matches(MatchPredicate.Create("compliance", "exists"), Consent));
        Assert.True(Matches(MatchPredicate.Create("compliance", "prefix", "gd"), Consent));
    }

    [Fact]
    public void Every_predicate_must_hold()
    {
        var both = new StreamFilter
        {
            Match = [MatchPredicate.Create("metadata.region", "eq", "eu-west"), MatchPredicate.Create("metadata.attempts", "lt", "5")],
        };

        Assert.False(CompiledFilter.Compile(both, s_clock).Matches(Login));
        Assert.True(CompiledFilter.Compile(both, s_clock).Matches(Login with { Metadata = Json("""{"region":"eu-west","attempts":2}""") }));
    }

    [Fact]
    public void Metadata_predicates_fail_on_events_without_metadata_except_neq_and_not_exists()
    {
        var bare = Login with { Metadata = null };

        Assert.False(Matches(MatchPredicate.Create("metadata.region", "eq", "eu-west"), bare));
        Assert.False(Matches(MatchPredicate.Create("metadata.region", "gt", "a"), bare));
        Assert.True(Matches(MatchPredicate.Create("metadata.region", "neq", "eu-west"), bare));
        Assert.True(Matches(MatchPredicate.Create("metadata.region", "exists", Json("false")), bare));
    }
}
