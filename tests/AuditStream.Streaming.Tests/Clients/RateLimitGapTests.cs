using System.Text.Json.Nodes;
using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests.Clients;

/// <summary>A live client's budget and the one gap announcement per spent window, on a fake clock.</summary>
public sealed class RateLimitGapTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private int _windowEnds;

    private RateLimitGap NewGap(int perSecond, int perMinute = 0) =>
        new(perSecond, perMinute, _time, static state => Interlocked.Increment(ref ((RateLimitGapTests)state!)._windowEnds), this);

    [Fact]
    public void Seqs_over_the_budget_become_one_gap_from_the_first_to_the_last_skipped()
    {
        using var gap = NewGap(perSecond: 2);

        Assert.True(gap.TryTake(1));
        Assert.True(gap.TryTake(2));
        Assert.False(gap.TryTake(3));
        Assert.False(gap.TryTake(4));
        Assert.False(gap.TryTake(7));

        var frame = gap.TakeGap();
        Assert.NotNull(frame);
        var json = JsonNode.Parse(frame.Json)!;
        Assert.Equal("audit.stream.gap", json["type"]!.GetValue<string>());
        Assert.Contains("\"from_seq\":3,\"to_seq\":7,\"reason\":\"rate_limited\"", json.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(gap.TakeGap());
        Assert.False(gap.Pending);
    }

    [Fact]
    public void The_window_end_calls_back_once_per_spent_window_and_the_budget_is_back()
    {
        using var gap = NewGap(perSecond: 1);
        Assert.True(gap.TryTake(1));
        Assert.False(gap.TryTake(2));
        Assert.False(gap.TryTake(3));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, _windowEnds);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _windowEnds);
        Assert.True(gap.Pending);

        Assert.NotNull(gap.TakeGap());
        Assert.True(gap.TryTake(4));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _windowEnds);
    }

    [Fact]
    public void A_disposed_gap_no_longer_calls_back()
    {
        var gap = NewGap(perSecond: 1);
        gap.TryTake(1);
        gap.TryTake(2);

        gap.Dispose();
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(0, _windowEnds);
    }

    [Fact]
    public void No_limit_is_not_enabled_and_takes_everything()
    {
        using var gap = NewGap(perSecond: 0);
        Assert.False(gap.Enabled);
        Assert.All(Enumerable.Range(1, 1000), seq => Assert.True(gap.TryTake(seq)));
    }
}
