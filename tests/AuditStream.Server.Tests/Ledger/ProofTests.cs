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
