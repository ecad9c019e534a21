using System.Net.WebSockets;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

public sealed class SlowConsumerTests
{
    [Fact]
    public async Task A_client_that_never_reads_is_closed_with_4008_while_fifty_healthy_clients_receive_every_seq_in_order()
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

        // Fifty healthy clients read everything as it comes, until their sockets close at the end of the test.
        var healthy = new List<HealthyReader>();
        for (var i = 0; i < 50; i++)
        {
            healthy.Add(new HealthyReader((await StreamClient.ConnectEstablishedAsync(server, token)).Client));
        }

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
        foreach (var reader in healthy)
        {
            Assert.Equal(posted, await reader.ReceivedThroughAsync(posted[^1]));
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

    /// <summary>Reads a client's published seqs in the background until its socket closes.</summary>
    private sealed class HealthyReader
    {
        private readonly List<long> _received = [];
        private readonly StreamClient _client;
        private long _target = long.MaxValue;
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HealthyReader(StreamClient client)
        {
            _client = client;
            _ = Task.Run(ReadAsync);
        }

        public async Task<List<long>> ReceivedThroughAsync(long seq)
        {
            lock (_received)
            {
                _target = seq;
                if (_received.Count > 0 && _received[^1] >= seq)
                {
                    _reached.TrySetResult();
                }
            }

            await _reached.Task.WaitAsync(StreamClient.Timeout);
            await _client.DisposeAsync();
            lock (_received)
            {
                return [.. _received];
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                while (await _client.ReceiveOrCloseAsync() is ({ } message, _))
                {
                    lock (_received)
                    {
                        _received.Add(message["seq"]!.GetValue<long>());
                        if (_received[^1] >= _target)
                        {
                            _reached.TrySetResult();
                        }
                    }
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The test ended and closed the socket.
            }
        }
    }
}
