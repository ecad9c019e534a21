using System.Net;
using AuditStream.Checkpoints;
using AuditStream.Merkle;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ledger;

public sealed class ProofTests
{
    [Fact]
    public async Task Proofs_fetched_over_http_verify_against_a_checkpoint_signed_by_the_published_key()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        var receipts = new List<(long Seq, string Hash)>();
        for (var b = 0; b < 5; b++)
        {
            var body = await Json.PostEventsAsync(producer, [.. Enumerable.Range(b * 300, 300).Select(i => Json.Event(i))]);
            receipts.AddRange(body["events"]!.AsArray().Select(r => (r!["seq"]!.GetValue<long>(), r["hash"]!.GetValue<string>())));
        }

        using var anonymous = server.Client();
        var key = (await anonymous.GetStringAsync("api/v1/ledger/public-key")).Trim();
        var note = await anonymous.GetStringAsync("api/v1/ledger/checkpoint");
        var opened = new CheckpointVerifier(NoteVerifier.Parse(key)).Open(note);
        Assert.True(opened.Checkpoint is not null, opened.Error);
        var checkpoint = opened.Checkpoint!;
        Assert.Equal(1_500, checkpoint.TreeSize);

        using var client = server.Client(server.Token("auditor", "acme"));
        foreach (var (seq, hash) in receipts.Where((_, i) => i % 97 == 0).Append(receipts[^1]))
        {
            var proof = await Json.ReadAsync(await client.GetAsync($"api/v1/ledger/proofs/inclusion?seq={seq}&tree_size={checkpoint.TreeSize}"));
            Assert.Equal(hash, proof["event_hash"]!.GetValue<string>());
            var path = proof["hashes"]!.AsArray().Select(h => Convert.FromHexString(h!.GetValue<string>())).ToList();
            var leaf = MerkleHash.Leaf(Convert.FromHexString(hash));
            Assert.True(MerkleProofs.VerifyInclusion(leaf, seq - 1, checkpoint.TreeSize, path, checkpoint.RootHash), $"seq {seq}");
            path[0][0] ^= 1;
            Assert.False(MerkleProofs.VerifyInclusion(leaf, seq - 1, checkpoint.TreeSize, path, checkpoint.RootHash));
        }

        await Json.PostEventsAsync(producer, Json.Event(9_999));
        var newer = new CheckpointVerifier(NoteVerifier.Parse(key)).Open(await anonymous.GetStringAsync("api/v1/ledger/checkpoint")).Checkpoint!;
        Assert.Equal(1_501, newer.TreeSize);
        var consistency = await Json.ReadAsync(await client.GetAsync($"api/v1/ledger/proofs/consistency?from={checkpoint.TreeSize}&to={newer.TreeSize}"));
        var hashes = consistency["hashes"]!.AsArray().Select(h => Convert.FromHexString(h!.GetValue<string>())).ToList();
        Assert.True(MerkleProofs.VerifyConsistency(checkpoint.TreeSize, newer.TreeSize, checkpoint.RootHash, newer.RootHash, hashes));
    }

    [Fact]
    public async Task A_read_with_proof_true_carries_an_inclusion_proof_against_a_signed_checkpoint_that_covers_the_event()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 40).Select(i => Json.Event(i))]);
        await Json.PostEventsAsync(server.Producer("beta"), Json.Event(99));
        var key = (await server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim();

        using var auditor = server.Client(server.Token("auditor", "acme"));
        foreach (var seq in new long[] { 1, 17, 40 })
        {
            var body = await Json.ReadAsync(await auditor.GetAsync($"api/v1/events/{seq}?proof=true"));
            Assert.Equal(seq, body["event"]!["seq"]!.GetValue<long>());
            var opened = new CheckpointVerifier(NoteVerifier.Parse(key)).Open(body["checkpoint"]!.GetValue<string>());
            Assert.True(opened.Checkpoint is not null, opened.Error);
            var proof = body["proof"]!;
            Assert.Equal(opened.Checkpoint!.TreeSize, proof["tree_size"]!.GetValue<long>());
            Assert.True(opened.Checkpoint.TreeSize >= seq);
            Assert.Equal(seq - 1, proof["leaf_index"]!.GetValue<long>());
            var path = proof["hashes"]!.AsArray().Select(h => Convert.FromHexString(h!.GetValue<string>())).ToList();
            var leaf = MerkleHash.Leaf(Convert.FromHexString(body["event"]!["hash"]!.GetValue<string>()));
            Assert.True(MerkleProofs.VerifyInclusion(leaf, seq - 1, opened.Checkpoint.TreeSize, path, opened.Checkpoint.RootHash), $"seq {seq}");
        }

        // The plain read is unchanged; another tenant's event stays a 404 with or without a proof; the flag is a boolean.
        Assert.Equal(5, (await Json.ReadAsync(await auditor.GetAsync("api/v1/events/5")))["seq"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.NotFound, (await auditor.GetAsync("api/v1/events/41?proof=true")).StatusCode);
        using var bad = await auditor.GetAsync("api/v1/events/5?proof=yes");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("proof", (await Json.ReadAsync(bad))["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Proof_requests_outside_the_tree_are_400_naming_the_parameter_and_need_a_token()
    {
        await using var server = await TestServer.StartAsync();
        await Json.PostEventsAsync(server.Producer(), Json.Event(1), Json.Event(2));
        using var anonymous = server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/v1/ledger/proofs/inclusion?seq=1")).StatusCode);
        using var client = server.Client(server.Token("auditor", "acme"));
        foreach (var (query, field) in new[] { ("inclusion?seq=3", "seq"), ("inclusion?seq=1&tree_size=9", "tree_size"), ("inclusion?seq=x", "seq"), ("consistency?from=2&to=1", "from") })
        {
            using var response = await client.GetAsync("api/v1/ledger/proofs/" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await Json.ReadAsync(response))["errors"]![0]!["field"]!.GetValue<string>());
        }
    }
}
