using AuditStream.Ledger.Feed;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Backplane;
using AuditStream.Streaming.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Tests.Hosting;

/// <summary><c>AuditStream:Backplane:Redis</c> in the server host, against a real redis-server.</summary>
public sealed class BackplaneRegistrationTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task With_redis_configured_the_server_provides_a_commit_signal_on_its_ledgers_channel()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { [BackplaneOptions.RedisKey] = redis.ConfigurationString });
        var signal = Assert.IsType<RedisCommitSignal>(server.Services.GetRequiredService<ICommitSignal>());
        await signal.Started.WaitAsync(s_wait);
        Assert.True(signal.IsConnected);

        // Another instance of the same ledger (the channel is named from the ledger id) hears the server, and the other way round.
        await using var peer = new RedisCommitSignal(new BackplaneOptions { Redis = redis.ConfigurationString }, server.Ledger.LedgerId);
        await peer.Started.WaitAsync(s_wait);
        var atPeer = new TaskCompletionSource<(long, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var atServer = new TaskCompletionSource<(long, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var peerSubscription = peer.Subscribe((from, to) => atPeer.TrySetResult((from, to)));
        using var serverSubscription = signal.Subscribe((from, to) => { if (from == 9) { atServer.TrySetResult((from, to)); } });
        await signal.PublishAsync(3, 4, CancellationToken.None);
        Assert.Equal((3L, 4L), await atPeer.Task.WaitAsync(s_wait));
        await peer.PublishAsync(9, 12, CancellationToken.None);
        Assert.Equal((9L, 12L), await atServer.Task.WaitAsync(s_wait));
        Assert.Equal(1, server.Services.GetRequiredService<BackplaneMetrics>().Messages(BackplaneMetrics.Publish, BackplaneMetrics.Results.Ok));
    }

    [Fact]
    public async Task Without_redis_configured_no_commit_signal_is_registered()
    {
        await using var server = await TestServer.StartAsync();
        Assert.Null(server.Services.GetService<ICommitSignal>());
    }

    [Fact]
    public async Task A_bad_redis_configuration_string_stops_start_up_naming_the_key_and_not_the_password()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(new Dictionary<string, string?>
        {
            [BackplaneOptions.RedisKey] = "localhost:6379,password=hunter2,colour=blue",
        }));
        Assert.Contains("AuditStream:Backplane:Redis (env AuditStream__Backplane__Redis)", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure.Message, StringComparison.Ordinal);
    }
}
