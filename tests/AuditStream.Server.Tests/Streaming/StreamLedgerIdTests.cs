using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Streaming;

/// <summary>Clients resume by (ledger id, seq): on any instance of the same ledger, and never on another ledger.</summary>
public sealed class StreamLedgerIdTests
{
    private const string ForeignLedger = "0123456789abcdef0123456789abcdef";

    private static async Task<long> PostAsync(TestServer server, int count)
    {
        var receipt = await Json.PostEventsAsync(server.Producer(), [.. Enumerable.Range(0, count).Select(i => Json.Event(i))]);
        return receipt["events"]!.AsArray()[^1]!["seq"]!.GetValue<long>();
    }

    private static string TypeOf(JsonNode message) => message["type"]!.GetValue<string>();

    /// <summary>Asserts the connection sends nothing more before the pong to a ping (no event slipped in) and returns after it.</summary>
    private static async Task AssertNothingBeforePongAsync(StreamClient client)
    {
        await client.SendAsync("""{"type":"ping"}""");
        Assert.Equal("audit.connection.pong", TypeOf(await client.ReceiveAsync()));
    }

    private static void AssertMismatch(JsonNode error, string requested, string served)
    {
        Assert.Equal("audit.error", TypeOf(error));
        Assert.Equal("ledger_mismatch", error["code"]!.GetValue<string>());
        Assert.Equal("ledger_id", error["field"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        Assert.Contains(requested, message, StringComparison.Ordinal);
        Assert.Contains(served, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Established_carries_the_ledger_id_next_to_last_seq()
    {
        await using var server = await TestServer.StartAsync();
        var ledgerId = server.Ledger.LedgerId;
        Assert.Matches("^[0-9a-f]{32}$", ledgerId);
        var last = await PostAsync(server, 3);
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;
        Assert.Equal(ledgerId, established["ledger_id"]!.GetValue<string>());
        Assert.Equal(last, established["last_seq"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_connection_resuming_on_another_ledger_gets_ledger_mismatch_naming_both_ids_and_no_events_until_it_resumes_on_this_one()
    {
        await using var server = await TestServer.StartAsync();
        var ledgerId = server.Ledger.LedgerId;
        await PostAsync(server, 4);
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), $"&since_seq=2&ledger_id={ForeignLedger}");
        await using var _ = client;
        Assert.Equal(ledgerId, established["ledger_id"]!.GetValue<string>());
        AssertMismatch(await client.ReceiveAsync(), ForeignLedger, ledgerId);

        // Neither the replay it asked for nor live events: a committed event does not reach it.
        var live = await PostAsync(server, 1);
        await AssertNothingBeforePongAsync(client);

        // Resuming on this ledger streams again, each seq once (none was sent before).
        await client.SendAsync($$"""{"type":"resume","since_seq":2,"ledger_id":"{{ledgerId}}"}""");
        Assert.Equal([3L, 4, 5], await client.ReceiveSeqsThroughAsync(live));
        Assert.Equal("audit.stream.caught_up", TypeOf(await client.ReceiveAsync()));
    }

    [Fact]
    public async Task A_resume_message_naming_another_ledger_stops_the_stream_with_ledger_mismatch()
    {
        await using var server = await TestServer.StartAsync();
        var ledgerId = server.Ledger.LedgerId;
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using var _ = client;
        var first = await PostAsync(server, 1);
        Assert.Equal([first], await client.ReceiveSeqsThroughAsync(first));

        await client.SendAsync($$"""{"type":"resume","since_seq":0,"ledger_id":"{{ForeignLedger}}"}""");
        AssertMismatch(await client.ReceiveAsync(), ForeignLedger, ledgerId);
        await PostAsync(server, 2);
        await AssertNothingBeforePongAsync(client);

        await client.SendAsync("""{"type":"resume","since_seq":0,"ledger_id":"not-a-ledger"}""");
        var invalid = await client.ReceiveAsync();
        Assert.Equal("invalid_message", invalid["code"]!.GetValue<string>());
        Assert.Equal("ledger_id", invalid["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_resumes_by_ledger_id_and_seq_on_another_instance_of_the_same_ledger_losing_and_repeating_nothing()
    {
        var data = Path.Combine(Path.GetTempPath(), "auditstream-ledger-id-tests", Guid.NewGuid().ToString("N"));
        string ledgerId;
        long resumeAt;
        await using (var first = await TestServer.StartAsync(dataDirectory: data))
        {
            ledgerId = first.Ledger.LedgerId;
            await PostAsync(first, 6);
            var (client, _) = await StreamClient.ConnectEstablishedAsync(first, first.Token("admin", "*"), "&since_seq=0");
            await using var _ = client;
            Assert.Equal([1L, 2, 3, 4, 5, 6], await client.ReceiveSeqsThroughAsync(6));
            resumeAt = 6;
        }

        // Another server process on the same ledger (here its file; with PostgreSQL any instance) has the same id.
        await using (var second = await TestServer.StartAsync(dataDirectory: data))
        {
            Assert.Equal(ledgerId, second.Ledger.LedgerId);
            var last = await PostAsync(second, 3);
            var (client, established) = await StreamClient.ConnectEstablishedAsync(second, second.Token("admin", "*"), $"&since_seq={resumeAt}&ledger_id={ledgerId}");
            await using var _ = client;
            Assert.Equal(ledgerId, established["ledger_id"]!.GetValue<string>());
            Assert.Equal([7L, 8, 9], await client.ReceiveSeqsThroughAsync(last));
            Assert.Equal("audit.stream.caught_up", TypeOf(await client.ReceiveAsync()));
        }

        // A new ledger in another directory is another ledger.
        await using (var other = await TestServer.StartAsync())
        {
            Assert.NotEqual(ledgerId, other.Ledger.LedgerId);
        }

        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task A_malformed_ledger_id_is_refused_before_the_upgrade_naming_the_field()
    {
        await using var server = await TestServer.StartAsync();
        using var reader = server.Reader();
        using var response = await reader.GetAsync("api/v1/stream?ledger_id=ABC");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ledger_id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_sent_events_carry_the_ledger_id_resume_with_last_event_id_on_it_and_refuse_another_ledger()
    {
        await using var server = await TestServer.StartAsync();
        var ledgerId = server.Ledger.LedgerId;
        var last = await PostAsync(server, 5);

        await using (var same = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), $"?ledger_id={ledgerId}", lastEventId: "3"))
        {
            Assert.Equal(ledgerId, same.Established!["ledger_id"]!.GetValue<string>());
            Assert.Equal([4L, 5], await same.ReceiveSeqsThroughAsync(last));
        }

        await using var foreign = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"), $"?ledger_id={ForeignLedger}", lastEventId: "3");
        Assert.Equal(ledgerId, foreign.Established!["ledger_id"]!.GetValue<string>());
        var (_, name, error) = await foreign.ReceiveAsync();
        Assert.Equal("audit.error", name);
        AssertMismatch(error, ForeignLedger, ledgerId);
    }
}
