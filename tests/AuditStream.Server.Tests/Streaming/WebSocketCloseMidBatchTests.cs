using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>
/// A client that closes while batches of events are being written to it, over real Kestrel and a raw RFC 6455 reader
/// (RawWebSocket, not the product's framer): every frame before the close parses, the close echoes the client's code,
/// nothing follows it, and the server lets go of the connection (the hub's client count returns to its prior value).
/// </summary>
public sealed class WebSocketCloseMidBatchTests
{
    [Fact]
    public async Task A_client_closing_mid_batch_gets_its_code_echoed_nothing_after_it_and_the_connection_is_released()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PingInterval"] = "00:00:00.050",
            ["AuditStream:Hub:RateLimitPerSecond"] = "0",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        var hub = server.Services.GetRequiredService<StreamHub>();
        var prior = hub.ClientCount;

        await using var client = await RawWebSocket.ConnectAsync(server, server.Token("admin", "*"));
        Assert.Equal(101, client.Status);
        Assert.Equal("audit.connection.established", (await client.ReadMessageAsync())["type"]!.GetValue<string>());
        Assert.True(await WaitUntilAsync(() => hub.ClientCount == prior + 1), "the client was admitted");

        using var producer = server.Producer();
        var publishing = Task.Run(async () =>
        {
            for (var batch = 0; batch < 6; batch++)
            {
                await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 200).Select(n => Json.Event(n))]);
            }
        });

        // Close as soon as the first event arrives: the rest of its batch and the batches behind it are still being written.
        var eventsBeforeClose = 0;
        while (eventsBeforeClose == 0 && await client.ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == 0x1 && JsonNode.Parse(frame.Payload)!["type"]!.GetValue<string>() == "audit.event.published")
            {
                eventsBeforeClose++;
            }
        }

        await client.SendRawAsync(RawWebSocket.Close(4321, "done"));

        // Frames already on their way may still come (RawWebSocket checks each); then the close with our code; then nothing.
        int? echoed = null;
        while (await client.ReadFrameAsync() is { } frame)
        {
            if (frame.Opcode == 0x8)
            {
                Assert.True(frame.Payload.Length >= 2, "the close echoes a status code");
                echoed = (frame.Payload[0] << 8) | frame.Payload[1];
                break;
            }
        }

        Assert.Equal(4321, echoed);
        Assert.Null(await client.ReadFrameAsync());
        await publishing;

        Assert.True(await WaitUntilAsync(() => hub.ClientCount == prior), $"the hub still holds {hub.ClientCount} clients, {prior} before");
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(StreamClient.Timeout);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
            {
                return false;
            }

            await Task.Delay(20, CancellationToken.None);
        }

        return true;
    }
}
