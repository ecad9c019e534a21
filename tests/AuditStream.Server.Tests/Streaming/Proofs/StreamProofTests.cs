using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Proofs;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Streaming.Proofs;

/// <summary>
/// Proof-carrying streams (docs/stream-proofs.md) over real Kestrel, WebSocket and SSE: the checkpoint on attach, inline
/// proofs for events a checkpoint already covers, deferred <c>audit.event.proof</c> for the rest once one does, all
/// verified here; nothing for clients that did not ask, nothing of another tenant, and the proof rules respected.
/// Checkpoints are signed by the test (<c>PublishNowAsync</c>), never by the interval, so inline and deferred are certain.
/// </summary>
public sealed class StreamProofTests
{
    private static readonly Dictionary<string, string?> s_manualCheckpoints = new() { ["AuditStream:Ledger:CheckpointInterval"] = "00:10:00" };

    [Fact]
    public async Task A_websocket_client_with_proofs_true_verifies_inline_proofs_on_replay_and_deferred_proofs_live_and_a_client_without_gets_none()
    {
        await using var server = await TestServer.StartAsync(s_manualCheckpoints);
        await SeedAcmeWithBetaAtSixAsync(server);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var key = await KeyAsync(server);
        var token = server.Token("auditor", "acme");

        var (proving, established) = await StreamClient.ConnectEstablishedAsync(server, token, "&proofs=true&since_seq=0");
        await using var _ = proving;
        Assert.True(established["proofs"]!.GetValue<bool>());
        var (plain, plainEstablished) = await StreamClient.ConnectEstablishedAsync(server, token, "&since_seq=0");
        await using var __ = plain;
        Assert.Null(plainEstablished["proofs"]);
        var (live, _) = await StreamClient.ConnectEstablishedAsync(server, token, "&proofs=true");
        await using var ___ = live;

        // The replay: the checkpoint first, then every acme event with its proof inline; beta's seq 6 never.
        var checker = new StreamProofChecker(key);
        await ReadUntilAsync(proving, checker, m => m["type"]!.GetValue<string>() == "audit.stream.caught_up");
        Assert.Equal([10L], checker.CheckpointSizes);
        Assert.Equal([1L, 2, 3, 4, 5, 7, 8, 9, 10], checker.Events);
        Assert.All(checker.Events, seq => Assert.True(checker.Verified[seq], $"seq {seq} inline"));
        var liveChecker = new StreamProofChecker(key);
        await ReadUntilAsync(live, liveChecker, m => m["type"]!.GetValue<string>() == "audit.ledger.checkpoint");

        // Live events no checkpoint covers yet come without proofs; a new checkpoint brings them, computed once for both clients.
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Json.Event(11), Json.Event(12), Json.Event(13));
        await ReadUntilAsync(proving, checker, _ => checker.Events[^1] == 13);
        await ReadUntilAsync(live, liveChecker, _ => liveChecker.Events.Count > 0 && liveChecker.Events[^1] == 13);
        Assert.Equal([11L, 12, 13], checker.Awaiting.Order());
        var proofs = server.Services.GetRequiredService<StreamProofs>();
        var computed = proofs.ProofsComputed;
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        await ReadUntilAsync(proving, checker, _ => checker.Awaiting.Count == 0);
        await ReadUntilAsync(live, liveChecker, _ => liveChecker.Awaiting.Count == 0);
        Assert.Equal([10L, 13], checker.CheckpointSizes);
        Assert.All([11L, 12, 13], seq => Assert.False(checker.Verified[seq], $"seq {seq} deferred"));
        Assert.Equal([11L, 12, 13], liveChecker.Verified.Keys.Order());
        Assert.Equal(computed + 3, proofs.ProofsComputed);

        // The client that did not ask got the same events and no checkpoint or proof at all.
        var messages = new List<JsonNode>();
        await plain.SendAsync("""{"type":"ping"}""");
        while ((messages.Count == 0 || messages[^1]["type"]!.GetValue<string>() != "audit.connection.pong") && messages.Count < 100)
        {
            messages.Add(await plain.ReceiveAsync());
        }

        Assert.Contains(messages, m => m["seq"]?.GetValue<long>() == 13);
        Assert.DoesNotContain(messages, m => m["type"]!.GetValue<string>() is "audit.ledger.checkpoint" or "audit.event.proof" || m["proof"] is not null);
    }

    [Fact]
    public async Task An_event_stream_client_with_proofs_true_gets_the_checkpoint_inline_proofs_and_deferred_proofs()
    {
        await using var server = await TestServer.StartAsync(s_manualCheckpoints);
        await SeedAcmeWithBetaAtSixAsync(server);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var key = await KeyAsync(server);
        await using var sse = await EventStreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "?proofs=true&since_seq=0");
        Assert.True(sse.Established!["proofs"]!.GetValue<bool>());

        var checker = new StreamProofChecker(key);
        await ReadUntilAsync(sse, checker, m => m["type"]!.GetValue<string>() == "audit.stream.caught_up");
        Assert.Equal([1L, 2, 3, 4, 5, 7, 8, 9, 10], checker.Events);
        Assert.All(checker.Events, seq => Assert.True(checker.Verified[seq]));

        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Json.Event(11), Json.Event(12));
        await ReadUntilAsync(sse, checker, _ => checker.Events[^1] == 12);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        await ReadUntilAsync(sse, checker, _ => checker.Awaiting.Count == 0);
        Assert.False(checker.Verified[11]);
        Assert.False(checker.Verified[12]);
        Assert.Equal([10L, 12], checker.CheckpointSizes);
    }

    [Fact]
    public async Task Update_filters_with_proofs_true_turns_proofs_on_and_sends_the_latest_checkpoint()
    {
        await using var server = await TestServer.StartAsync(s_manualCheckpoints);
        await SeedAcmeWithBetaAtSixAsync(server);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var (client, established) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using var _ = client;
        Assert.Null(established["proofs"]);

        await client.SendAsync("""{"type":"update_filters","filters":{"severities":["info"],"proofs":true}}""");
        var updated = await client.ReceiveAsync();
        Assert.Equal("audit.filters.updated", updated["type"]!.GetValue<string>());
        Assert.True(updated["proofs"]!.GetValue<bool>());
        var checkpoint = await client.ReceiveAsync();
        Assert.Equal("audit.ledger.checkpoint", checkpoint["type"]!.GetValue<string>());
        Assert.Equal(10, checkpoint["tree_size"]!.GetValue<long>());

        // A filter change that does not mention proofs leaves them on; "proofs": false turns them off.
        await client.SendAsync("""{"type":"update_filters","filters":{}}""");
        Assert.True((await client.ReceiveAsync())["proofs"]!.GetValue<bool>());
        await client.SendAsync("""{"type":"update_filters","filters":{"proofs":false}}""");
        Assert.Null((await client.ReceiveAsync())["proofs"]);
    }

    [Fact]
    public async Task Proofs_follow_the_proof_rules_an_event_they_do_not_show_gets_none_and_a_token_they_refuse_is_told_why()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>(s_manualCheckpoints)
        {
            ["AuditStream:Authorization:Rules:0:Name"] = "auditors-read",
            ["AuditStream:Authorization:Rules:0:Actions:0"] = "query",
            ["AuditStream:Authorization:Rules:0:Actions:1"] = "subscribe",
            ["AuditStream:Authorization:Rules:0:Subject:role:0"] = "auditor",
            ["AuditStream:Authorization:Rules:1:Name"] = "auditors-prove-security",
            ["AuditStream:Authorization:Rules:1:Actions:0"] = "proof",
            ["AuditStream:Authorization:Rules:1:Subject:role:0"] = "auditor",
            ["AuditStream:Authorization:Rules:1:Resource:category:0"] = "security",
            ["AuditStream:Authorization:Rules:2:Name"] = "compliance-watch",
            ["AuditStream:Authorization:Rules:2:Actions:0"] = "subscribe",
            ["AuditStream:Authorization:Rules:2:Subject:role:0"] = "compliance",
        });
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Json.Event(1), Json.Event(2, "auth.failure", category: "security"), Json.Event(3), Json.Event(4, "auth.failure", category: "security"));
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var key = await KeyAsync(server);

        var (auditor, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "&proofs=true&since_seq=0");
        await using var _a = auditor;
        var checker = new StreamProofChecker(key);
        await ReadUntilAsync(auditor, checker, m => m["type"]!.GetValue<string>() == "audit.stream.caught_up");
        Assert.Equal([1L, 2, 3, 4], checker.Events);
        Assert.Equal([2L, 4], checker.Verified.Keys.Order());

        await Json.PostEventsAsync(acme, Json.Event(5), Json.Event(6, "auth.failure", category: "security"));
        await ReadUntilAsync(auditor, checker, _ => checker.Events[^1] == 6);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        await ReadUntilAsync(auditor, checker, _ => checker.Verified.ContainsKey(6));
        await auditor.SendAsync("""{"type":"ping"}""");
        await ReadUntilAsync(auditor, checker, m => m["type"]!.GetValue<string>() == "audit.connection.pong");
        Assert.Equal([1L, 3, 5], checker.Awaiting.Order());

        // A token the proof rules refuse outright: 403 naming the rule at connect, audit.error on update_filters.
        await using var refused = await EventStreamClient.ConnectAsync(server, server.Token("compliance", "acme"), "?proofs=true");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        var problem = JsonNode.Parse(await refused.ReadBodyAsync())!;
        Assert.Equal("rule", problem["errors"]![0]!["field"]!.GetValue<string>());
        var (compliance, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("compliance", "acme"));
        await using var _c = compliance;
        await compliance.SendAsync("""{"type":"update_filters","filters":{"proofs":true}}""");
        var error = await compliance.ReceiveAsync();
        Assert.Equal("audit.error", error["type"]!.GetValue<string>());
        Assert.Equal("proofs_forbidden", error["code"]!.GetValue<string>());
        Assert.Equal("proofs", error["field"]!.GetValue<string>());
        Assert.Null((await compliance.ReceiveAsync())["proofs"]);
    }

    [Fact]
    public async Task A_client_whose_backlog_of_unproved_events_is_full_is_told_which_seqs_get_no_proof()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>(s_manualCheckpoints) { ["AuditStream:Hub:ProofBacklogPerClient"] = "2" });
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Json.Event(1));
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"), "&proofs=true");
        await using var _c = client;
        var checker = new StreamProofChecker(await KeyAsync(server));
        await ReadUntilAsync(client, checker, m => m["type"]!.GetValue<string>() == "audit.ledger.checkpoint");

        await Json.PostEventsAsync(acme, [.. Enumerable.Range(2, 5).Select(i => Json.Event(i))]);
        await ReadUntilAsync(client, checker, _ => checker.Events.Count > 0 && checker.Events[^1] == 6);
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        JsonNode? backlog = null;
        await ReadUntilAsync(client, checker, m => (backlog = m["code"]?.GetValue<string>() == "proof_backlog" ? m : null) is not null);
        Assert.Equal([2L, 3], checker.Verified.Keys.Order());
        Assert.Equal(4, backlog!["from_seq"]!.GetValue<long>());
        Assert.Equal(6, backlog["to_seq"]!.GetValue<long>());
        Assert.Equal("proofs", backlog["field"]!.GetValue<string>());
    }

    /// <summary>acme's events at seqs 1–5 and 7–10, beta's at 6.</summary>
    private static async Task SeedAcmeWithBetaAtSixAsync(TestServer server)
    {
        using var acme = server.Producer();
        using var beta = server.Producer("beta");
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(1, 5).Select(i => Json.Event(i))]);
        await Json.PostEventsAsync(beta, Json.Event(6));
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(7, 4).Select(i => Json.Event(i))]);
    }

    private static async Task<NoteVerifier> KeyAsync(TestServer server)
    {
        using var client = server.Client();
        return NoteVerifier.Parse((await client.GetStringAsync("api/v1/ledger/public-key")).Trim());
    }

    private static async Task ReadUntilAsync(StreamClient client, StreamProofChecker checker, Func<JsonNode, bool> done)
    {
        for (var i = 0; i < 1000; i++)
        {
            var message = await client.ReceiveAsync();
            checker.Observe(message);
            if (done(message))
            {
                return;
            }
        }

        Assert.Fail("1000 messages without the one awaited");
    }

    private static async Task ReadUntilAsync(EventStreamClient client, StreamProofChecker checker, Func<JsonNode, bool> done)
    {
        for (var i = 0; i < 1000; i++)
        {
            var (_, _, message) = await client.ReceiveAsync();
            checker.Observe(message);
            if (done(message))
            {
                return;
            }
        }

        Assert.Fail("1000 messages without the one awaited");
    }
}
