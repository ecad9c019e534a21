using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

public sealed class StreamTimeRangeTests
{
    [Theory]
    [InlineData("&relative=1h")]
    [InlineData("&start=2000-01-01T00:00:00Z")]
    public async Task A_time_range_starting_in_the_past_replays_from_the_ledger_then_goes_live(string query)
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(1), Json.Event(2), Json.Event(3));

        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), query);
        await using (client)
        {
            Assert.Equal([1L, 2, 3], await client.ReceiveSeqsThroughAsync(3));
            var caughtUp = await client.ReceiveAsync();
            Assert.Equal("audit.stream.caught_up", caughtUp["type"]!.GetValue<string>());

            await Json.PostEventsAsync(producer, Json.Event(4));
            Assert.Equal([4L], await client.ReceiveSeqsThroughAsync(4));
        }
    }

    [Fact]
    public async Task An_explicit_since_seq_wins_over_the_time_range_start()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(1), Json.Event(2), Json.Event(3));
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "&relative=1h&since_seq=2");
        await using (client)
        {
            Assert.Equal([3L], await client.ReceiveSeqsThroughAsync(3));
            Assert.Equal("audit.stream.caught_up", (await client.ReceiveAsync())["type"]!.GetValue<string>());
        }
    }
}
