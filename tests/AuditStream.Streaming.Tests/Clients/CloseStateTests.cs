using AuditStream.Streaming.Clients;

namespace AuditStream.Streaming.Tests.Clients;

/// <summary>The close decision: the first one wins and its waiters run only once it is announced.</summary>
public sealed class CloseStateTests
{
    [Fact]
    public void The_first_decision_wins_with_its_description()
    {
        var close = new CloseState();
        Assert.False(close.IsClosing);

        Assert.True(close.TryDecide(4008, "slow_consumer"));
        Assert.False(close.TryDecide(1001, "server_stopping"));

        Assert.True(close.IsClosing);
        Assert.Equal(4008, close.Status);
        Assert.Equal("slow_consumer", close.Description);
    }

    [Fact]
    public async Task Requested_completes_with_the_code_only_once_announced()
    {
        var close = new CloseState();
        close.Announce();
        Assert.False(close.Requested.IsCompleted);

        close.TryDecide(1008, "policy_violation");
        Assert.False(close.Requested.IsCompleted);
        close.Announce();

        Assert.Equal(1008, await close.Requested.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Zero_is_not_a_close_code()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CloseState().TryDecide(0, ""));
    }
}
