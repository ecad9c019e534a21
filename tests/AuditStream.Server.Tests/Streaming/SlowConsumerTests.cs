using System.Net.WebSockets;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

public sealed class SlowConsumerTests
{
    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4008_while_a_healthy_client_keeps_receiving()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:ClientBufferSize"] = "32",
            ["AuditStream:Hub:RateLimitPerSecond"] = "0",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
            ["AuditStream:Hub:CloseTimeout"] = "00:01:00",
        });
        var token = server.Token("admin", "*");
        await using var slow = await StreamClient.ConnectAsync(StreamClient.Address(server, "?token=" + token), receiveBufferBytes: 4096);
        var slowId = (await slow.ReceiveAsync())["client_id"]!.GetValue<string>();
        Assert.True(server.Services.GetRequiredService<StreamHub>().TryGetClient(slowId, out var slowConnection));
        var (healthy, _) = await StreamClient.ConnectEstablishedAsync(server, token);
        await using var healthyClient = healthy;

        // The healthy client reads everything as it comes, until the socket closes at the end of the test.
        var received = new List<long>();
        long? target = null;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            try
            {
                while (await healthy.ReceiveOrCloseAsync() is ({ } message, _))
                {
                    lock (received)
                    {
                        received.Add(message["seq"]!.GetValue<long>());
                        if (received[^1] >= target)
                        {
                            reached.TrySetResult();
                        }
                    }
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The test ended and closed the socket.
            }
        });

        // Large events in small batches: the slow client's socket fills, then its queue; the healthy one keeps up.
        var padding = $"\"metadata\":{{\"pad\":\"{new string('x', 4000)}\"}}";
        using var producer = server.Producer();
        var posted = new List<long>();
        for (var batch = 0; batch < 500 && !slowConnection.CloseRequested.IsCompleted; batch++)
        {
            var receipt = await Json.PostEventsAsync(producer, [.. Enumerable.Range(batch * 4, 4).Select(i => Json.Event(i, extra: padding))]);
            posted.AddRange(receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()));
        }

        Assert.Equal(StreamCloseCodes.SlowConsumer, await slowConnection.CloseRequested.WaitAsync(StreamClient.Timeout));
        var after = await Json.PostEventsAsync(producer, Json.Event(10_000));
        posted.Add(after["events"]![0]!["seq"]!.GetValue<long>());
        lock (received)
        {
            target = posted[^1];
            if (received.Count > 0 && received[^1] >= target)
            {
                reached.TrySetResult();
            }
        }

        await reached.Task.WaitAsync(StreamClient.Timeout);
        lock (received)
        {
            Assert.Equal(posted, received);
        }

        // The slow client, once it reads, finds the frames that were queued and then the close.
        WebSocketCloseStatus? close;
        do
        {
            (_, close) = await slow.ReceiveOrCloseAsync();
        }
        while (close is null);

        Assert.Equal(StreamCloseCodes.SlowConsumer, (int)close);
        Assert.Equal(StreamCloseCodes.SlowConsumerDescription, slow.Socket.CloseStatusDescription);
    }
}
