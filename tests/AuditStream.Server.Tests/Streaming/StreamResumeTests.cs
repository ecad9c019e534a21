using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamResumeTests
{
    /// <summary>Posts <paramref name="count"/> events in batches, severities alternating info/warning; returns (seq, severity) per event.</summary>
    private static async Task<List<(long Seq, string Severity)>> ProduceAsync(HttpClient producer, int first, int count, int batch)
    {
        var written = new List<(long, string)>();
        for (var i = first; i < first + count; i += batch)
        {
            var events = Enumerable.Range(i, Math.Min(batch, first + count - i))
                .Select(n => (Json: Json.Event(n, severity: n % 2 == 0 ? "warning" : "info"), Severity: n % 2 == 0 ? "warning" : "info")).ToArray();
            var receipt = await Json.PostEventsAsync(producer, [.. events.Select(e => e.Json)]);
            var seqs = receipt["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToArray();
            written.AddRange(seqs.Select((seq, k) => (seq, events[k].Severity)));
        }

        return written;
    }

    [Fact]
    public async Task Since_seq_replays_then_announces_caught_up_then_goes_live_with_every_matching_seq_once_in_order_while_producers_write()
    {
        // Hundreds of live events in a second: the delivery rate limits are off so that every seq must arrive.
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:RateLimitPerSecond"] = "0",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        using var producer = server.Producer();
        var before = await ProduceAsync(producer, 0, 300, 25);
        const long since = 40;

        // Producers keep writing while the client replays and switches to live.
        var during = ProduceAsync(server.Producer(), 300, 300, 5);
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), $"&since_seq={since}&severities=warning");
        await using var _ = client;
        var written = before.Concat(await during).ToList();
        var expected = written.Where(w => w.Seq > since && w.Severity == "warning").Select(w => w.Seq).Order().ToList();

        var received = new List<long>();
        long? caughtUp = null;
        var caughtUpAt = -1;
        while (received.Count == 0 || received[^1] < expected[^1])
        {
            var message = await client.ReceiveAsync();
            switch (message["type"]!.GetValue<string>())
            {
                case "audit.event.published":
                    Assert.Equal("warning", message["audit_event"]!["severity"]!.GetValue<string>());
                    received.Add(message["seq"]!.GetValue<long>());
                    break;
                case "audit.stream.caught_up":
                    Assert.Null(caughtUp);
                    caughtUp = message["seq"]!.GetValue<long>();
                    caughtUpAt = received.Count;
                    break;
                default:
                    Assert.Fail($"Unexpected message {message.ToJsonString()}");
                    break;
            }
        }

        Assert.Equal(expected, received);
        Assert.NotNull(caughtUp);
        Assert.True(caughtUp >= established["last_seq"]!.GetValue<long>());
        Assert.All(received.Take(caughtUpAt), seq => Assert.True(seq <= caughtUp));
        Assert.All(received.Skip(caughtUpAt), seq => Assert.True(seq > caughtUp));
    }

    [Fact]
    public async Task A_resume_message_replays_from_the_given_seq_on_the_same_connection()
    {
        await using var server = await TestServer.StartAsync();
        var written = await ProduceAsync(server.Producer(), 0, 10, 10);
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;

        await client.SendAsync("""{"type":"resume","since_seq":6}""");

        var replay = await client.ReceiveSeqsThroughAsync(written[^1].Seq);
        Assert.Equal(written.Where(w => w.Seq > 6).Select(w => w.Seq), replay);
        JsonNode caughtUp = await client.ReceiveAsync();
        Assert.Equal("audit.stream.caught_up", caughtUp["type"]!.GetValue<string>());
        Assert.Equal(written[^1].Seq, caughtUp["seq"]!.GetValue<long>());

        var live = await Json.PostEventsAsync(server.Producer(), Json.Event(99));
        var seq = live["events"]![0]!["seq"]!.GetValue<long>();
        Assert.Equal([seq], await client.ReceiveSeqsThroughAsync(seq));
    }
}
