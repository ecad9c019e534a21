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

        // Large events in small batches: the slow client's socket fills, then its queue. The next batch waits until every
        // healthy client has read the last one, so a healthy client is never more than a batch behind, however loaded the
        // box (the readers share it with the server): each stays far inside its 32-frame queue and only the slow one is
        // closed. The slow client never reads, so nothing it does paces the producer: if the hub waited for it, the
        // healthy clients would stop receiving and the wait would fail.
        var padding = $"\"metadata\":{{\"pad\":\"{new string('x', 4000)}\"}}";
        using var producer = server.Producer();
        var posted = new List<long>();
        for (var batch = 0; batch < 500 && !slowConnection.CloseRequested.IsCompleted; batch++)
        {
            var receipt = await Json.PostEventsAsync(producer, [.. Enumerable.Range(batch * 4, 4).Select(i => Json.Event(i, extra: padding))]);
            posted.AddRange(receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()));
            await Task.WhenAll(healthy.Select(reader => reader.WaitForAsync(posted[^1])));
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

    /// <summary>
    /// Reads a client's published seqs in the background until its socket closes. A wait fails at once, saying why, if
    /// the socket closed or failed first (a healthy client closed as a slow consumer, say), and otherwise after a
    /// generous timeout.
    /// </summary>
    private sealed class HealthyReader
    {
        private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

        private readonly Lock _lock = new();
        private readonly List<long> _received = [];
        private readonly StreamClient _client;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private string? _ended;

        public HealthyReader(StreamClient client)
        {
            _client = client;
            _ = Task.Run(ReadAsync);
        }

        /// <summary>Waits until the client has received <paramref name="seq"/>.</summary>
        public async Task WaitForAsync(long seq)
        {
            using var timeout = new CancellationTokenSource(s_timeout);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_received.Count > 0 && _received[^1] >= seq)
                    {
                        return;
                    }

                    Assert.True(_ended is null, $"A healthy client stopped before seq {seq}: {_ended}; it received through {(_received.Count > 0 ? _received[^1] : 0)}.");
                    changed = _changed.Task;
                }

                try
                {
                    await changed.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"A healthy client had not received seq {seq} after {s_timeout.TotalSeconds} s; it received through {(_received.Count > 0 ? _received[^1] : 0)}.");
                }
            }
        }

        /// <summary>Waits for <paramref name="seq"/>, closes the client and returns every seq it received, in order.</summary>
        public async Task<List<long>> ReceivedThroughAsync(long seq)
        {
            await WaitForAsync(seq);
            await _client.DisposeAsync();
            lock (_lock)
            {
                return [.. _received];
            }
        }

        private async Task ReadAsync()
        {
            string ended;
            try
            {
                while (true)
                {
                    var (message, close) = await _client.ReceiveOrCloseAsync();
                    if (message is null)
                    {
                        ended = $"the server closed it with {(int?)close} {_client.Socket.CloseStatusDescription}";
                        break;
                    }

                    Signal(() => _received.Add(message["seq"]!.GetValue<long>()));
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Also how the reader ends when the test closes the socket; a wait after that point is a test bug.
                ended = $"its socket failed: {exception.GetType().Name} {exception.Message}";
            }

            Signal(() => _ended = ended);
        }

        private void Signal(Action change)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                change();
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }
}
