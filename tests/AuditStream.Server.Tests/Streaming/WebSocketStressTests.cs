using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>Many raw clients at once: control frames, closes and coalesced event frames interleave, and every byte still parses.</summary>
public sealed class WebSocketStressTests
{
    [Fact]
    public async Task Pings_pongs_closes_and_coalesced_frames_from_many_clients_all_parse_as_RFC_6455()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:PingInterval"] = "00:00:00.050",
            ["AuditStream:Hub:RateLimitPerSecond"] = "0",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        var token = server.Token("admin", "*");
        var clients = new List<RawWebSocket>();
        for (var i = 0; i < 16; i++)
        {
            var client = await RawWebSocket.ConnectAsync(server, token);
            Assert.Equal(101, client.Status);
            clients.Add(client);
        }

        try
        {
            using var producer = server.Producer();
            var publishing = Task.Run(async () =>
            {
                for (var batch = 0; batch < 10; batch++)
                {
                    await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 50).Select(n => Json.Event(n))]);
                }
            });

            var readers = clients.Select((client, i) => ExerciseAsync(client, closeEarly: i % 4 == 0, totalEvents: 500)).ToList();
            await publishing;
            var results = await Task.WhenAll(readers);

            Assert.All(results, r => Assert.True(r.Frames > 0));
            Assert.All(results.Where(r => !r.ClosedEarly), r => Assert.Equal(500, r.Events));
            Assert.All(results, r => Assert.Equal(r.PongsExpected, r.PongsSeen));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private sealed record Outcome(bool ClosedEarly, int Frames, int Events, int PongsExpected, int PongsSeen);

    /// <summary>
    /// Reads every frame (RawWebSocket checks each), answers server pings, sends its own pings and JSON pings between
    /// reads, and either closes after some events or reads every event published and closes then.
    /// </summary>
    private static async Task<Outcome> ExerciseAsync(RawWebSocket client, bool closeEarly, int totalEvents)
    {
        var frames = 0;
        var events = 0;
        var pongsExpected = 0;
        var pongsSeen = 0;
        while (await client.ReadFrameAsync() is { } frame)
        {
            frames++;
            switch (frame.Opcode)
            {
                case 0x9:
                    await client.SendRawAsync(RawWebSocket.Frame(0xA, frame.Payload));
                    continue;
                case 0xA:
                    Assert.Equal($"p{pongsSeen}", Encoding.UTF8.GetString(frame.Payload));
                    pongsSeen++;
                    continue;
                case 0x8:
                    Assert.Fail("The server closed a client that did nothing wrong.");
                    break;
            }

            var message = JsonNode.Parse(frame.Payload)!;
            if (message["type"]!.GetValue<string>() != "audit.event.published")
            {
                continue;
            }

            events++;
            if (events % 7 == 0)
            {
                await client.SendRawAsync([.. RawWebSocket.Frame(0x9, Encoding.UTF8.GetBytes($"p{pongsExpected}")), .. RawWebSocket.Text("""{"type":"ping"}""")]);
                pongsExpected++;
            }

            if (closeEarly && events == 60)
            {
                await client.SendRawAsync(RawWebSocket.Close(1000));
                while (await client.ReadFrameAsync() is { } rest && rest.Opcode != 0x8)
                {
                    pongsSeen += rest.Opcode == 0xA ? 1 : 0;
                }

                Assert.True(await client.EndsAsync());
                return new Outcome(true, frames, events, pongsExpected, pongsSeen);
            }

            if (events == totalEvents)
            {
                break;
            }
        }

        // Collect the pongs still owed, then close.
        while (pongsSeen < pongsExpected && await client.ReadFrameAsync() is { } frame)
        {
            frames++;
            pongsSeen += frame.Opcode == 0xA ? 1 : 0;
            if (frame.Opcode == 0x9)
            {
                await client.SendRawAsync(RawWebSocket.Frame(0xA, frame.Payload));
            }
        }

        await client.SendRawAsync(RawWebSocket.Close(1000));
        Assert.Equal(1000, (await client.ReadCloseAsync()).Code);
        return new Outcome(false, frames, events, pongsExpected, pongsSeen);
    }
}
