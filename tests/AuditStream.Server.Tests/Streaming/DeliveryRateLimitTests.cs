using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Server.Tests.Streaming;

public sealed class DeliveryRateLimitTests
{
    [Fact]
    public void The_per_second_budget_is_spent_and_refills_when_the_second_ends()
    {
        var time = new FakeTimeProvider();
        var limit = new DeliveryRateLimit(3, 0, time);

        Assert.Equal([true, true, true, false, false], Enumerable.Range(0, 5).Select(_ => limit.TryTake()));
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(600), limit.UntilWindowEnds());
        Assert.False(limit.TryTake());

        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(TimeSpan.Zero, limit.UntilWindowEnds());
        Assert.True(limit.TryTake());
    }

    [Fact]
    public void The_per_minute_budget_holds_across_seconds_and_its_window_end_is_reported()
    {
        var time = new FakeTimeProvider();
        var limit = new DeliveryRateLimit(2, 5, time);
        var taken = 0;
        for (var second = 0; second < 10; second++)
        {
            taken += Enumerable.Range(0, 4).Count(_ => limit.TryTake());
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(5, taken);
        Assert.Equal(TimeSpan.FromSeconds(50), limit.UntilWindowEnds());

        time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(limit.TryTake());
    }

    [Fact]
    public void Zero_limits_are_no_limit()
    {
        var limit = new DeliveryRateLimit(0, 0, new FakeTimeProvider());

        Assert.False(limit.Enabled);
        Assert.All(Enumerable.Range(0, 10_000), _ => Assert.True(limit.TryTake()));
    }
}
