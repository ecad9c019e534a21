using AuditStream.Filters;
using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Tests.Storage;

public sealed class EventQueryTests
{
    private static EventQuery For(StreamFilter filter, string? tenant = null) => EventQuery.For(CompiledFilter.Compile(filter, TimeProvider.System), tenant);

    [Fact]
    public void Exact_lists_tenant_and_time_go_to_sql_with_no_residual()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var q = For(new StreamFilter
        {
            EventTypes = ["auth.failure"],
            Severities = ["error"],
            Categories = ["security"],
            ActorIds = ["a"],
            TargetIds = ["t"],
            TimeRange = new TimeRange { Start = start, End = start.AddHours(1) },
        }, "acme");
        Assert.Equal(["auth.failure"], q.EventTypes);
        Assert.Equal(["error"], q.Severities);
        Assert.Equal(["security"], q.Categories);
        Assert.Equal(["a"], q.ActorIds);
        Assert.Equal(["t"], q.TargetIds);
        Assert.Equal("acme", q.TenantId);
        Assert.Equal(1_767_225_600_000_000, q.FromMicros);
        Assert.Equal(1_767_229_200_000_000, q.ToMicros);
        Assert.Null(q.Residual);
    }

    [Theory]
    [InlineData("prefix")]
    [InlineData("match")]
    [InlineData("compliance")]
    [InlineData("security")]
    public void What_sql_cannot_express_becomes_the_residual(string kind)
    {
        var filter = kind switch
        {
            "prefix" => new StreamFilter { EventTypes = ["auth.*", "data.accessed"] },
            "match" => new StreamFilter { Match = [MatchPredicate.Create("metadata.region", "eq", "eu")] },
            "compliance" => new StreamFilter { ComplianceOnly = true },
            _ => new StreamFilter { SecurityOnly = true },
        };
        var q = For(filter);
        Assert.NotNull(q.Residual);
        Assert.Empty(q.EventTypes);
    }
}
