using AuditStream.Streaming.Transports.WebSockets;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests.WebSockets;

public sealed class WebSocketKeepAliveTests
{
    private readonly FakeTimeProvider _time = new();
    private int _pings;
    private int _dead;

    private WebSocketKeepAlive Start(int intervalSeconds = 30, int timeoutSeconds = 60) => new(
        TimeSpan.FromSeconds(intervalSeconds), TimeSpan.FromSeconds(timeoutSeconds), _time,
        () => { Interlocked.Increment(ref _pings); return ValueTask.CompletedTask; },
        () => Interlocked.Increment(ref _dead));

    [Fact]
    public void A_ping_goes_out_after_each_interval_that_ends_with_the_last_answered()
    {
        using var keepAlive = Start();

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, _pings);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _pings);
        Assert.True(keepAlive.AwaitingPong);

        keepAlive.OnPong();
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(2, _pings);
        Assert.Equal(0, _dead);
    }

    [Fact]
    public void A_peer_that_does_not_answer_within_PongTimeout_is_dead_once()
    {
        using var keepAlive = Start();
        _time.Advance(TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, _dead);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _dead);

        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, _dead);
        Assert.Equal(1, _pings);
    }

    [Fact]
    public void A_zero_interval_never_pings()
    {
        using var keepAlive = Start(intervalSeconds: 0);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, _pings);
        Assert.Equal(0, _dead);
    }

    [Fact]
    public void Nothing_happens_after_dispose()
    {
        var keepAlive = Start();
        keepAlive.Dispose();

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, _pings);
    }
}
