using AuditStream.Sinks.Configuration;
using AuditStream.Sinks.Elasticsearch;

namespace AuditStream.Sinks.Tests.Elasticsearch;

public sealed class IndexPatternTests
{
    [Theory]
    [InlineData("auditstream-%{yyyy.MM.dd}", "2026-11-23T23:59:59Z", "auditstream-2026.11.23", "auditstream-*")]
    [InlineData("auditstream-%{yyyy.MM.dd}", "2026-11-24T00:00:00Z", "auditstream-2026.11.24", "auditstream-*")]
    [InlineData("audit-%{yyyy.MM.dd.HH}", "2026-11-23T07:30:00Z", "audit-2026.11.23.07", "audit-*")]
    [InlineData("audit-%{yyyy}-x-%{MM}", "2026-11-23T07:30:00Z", "audit-2026-x-11", "audit-*")]
    [InlineData("audit-events", "2026-11-23T07:30:00Z", "audit-events", "audit-events")]
    public void Resolves_the_commit_time_in_utc(string pattern, string at, string index, string wildcard)
    {
        var resolved = new IndexPattern(pattern);
        Assert.Equal(index, resolved.Resolve(DateTimeOffset.Parse(at)));
        Assert.Equal(wildcard, resolved.Wildcard);
    }

    [Fact]
    public void Consecutive_events_of_one_day_and_of_the_next_get_their_own_index()
    {
        var pattern = new IndexPattern("audit-%{yyyy.MM.dd.HH}");
        Assert.Equal("audit-2026.11.23.07", pattern.Resolve(DateTimeOffset.Parse("2026-11-23T07:59:59Z")));
        Assert.Equal("audit-2026.11.23.08", pattern.Resolve(DateTimeOffset.Parse("2026-11-23T08:00:00Z")));
        var daily = new IndexPattern("auditstream-%{yyyy.MM.dd}");
        Assert.Equal("auditstream-2026.11.23", daily.Resolve(DateTimeOffset.Parse("2026-11-23T09:00:00+02:00")));
        Assert.Equal("auditstream-2026.11.24", daily.Resolve(DateTimeOffset.Parse("2026-11-24T01:00:00+02:00").AddHours(1)));
    }

    [Theory]
    [InlineData("audit-logs-%{+YYYY.MM.dd}", "audit-logs-%{yyyy.MM.dd}")]
    [InlineData("audit-%{yyyy.MM}", "audit-%{yyyy.MM}")]
    public void Logstash_style_index_from_the_environment_is_accepted(string value, string pattern) =>
        Assert.Equal(pattern, SinkEnvironment.LogstashIndex(value));
}
