using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Merkle;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Reads;

/// <summary>Queries and exports with <c>proof=true</c>/<c>proofs=true</c> over real Kestrel: every event carries a proof that verifies against the signed checkpoint, and only the caller's tenant is proved.</summary>
public sealed class ProofCarryingReadTests
{
    [Fact]
    public async Task A_query_with_proof_true_proves_each_event_of_the_page_against_one_signed_checkpoint_and_only_the_callers_tenant()
    {
        await using var server = await TestServer.StartAsync();
        await SeedAsync(server);
        var key = NoteVerifier.Parse((await server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim());

        using var auditor = server.Client(server.Token("auditor", "acme"));
        var body = await Json.ReadAsync(await auditor.GetAsync("api/v1/events?proof=true&limit=25"));
        var events = body["events"]!.AsArray();
        var proofs = body["proofs"]!.AsArray();
        Assert.Equal(25, events.Count);
        Assert.Equal(events.Count, proofs.Count);
        var checkpoint = Open(key, body["checkpoint"]!.GetValue<string>());
        Assert.Equal(61, checkpoint.TreeSize);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal("acme", events[i]!["tenant_id"]!.GetValue<string>());
            AssertProved(events[i]!, proofs[i]!, checkpoint);
        }

        // The next page (cursor pagination) carries proofs too, and never beta's seq 31.
        var next = await Json.ReadAsync(await auditor.GetAsync(body["next"]!.GetValue<string>().TrimStart('/')));
        var seqs = next["events"]!.AsArray().Select(e => e!["seq"]!.GetValue<long>()).ToList();
        Assert.DoesNotContain(31L, seqs);
        Assert.Equal(25, seqs.Count);
        Assert.Equal(seqs.Count, next["proofs"]!.AsArray().Count);
        var nextCheckpoint = Open(key, next["checkpoint"]!.GetValue<string>());
        for (var i = 0; i < seqs.Count; i++)
        {
            AssertProved(next["events"]![i]!, next["proofs"]![i]!, nextCheckpoint);
        }

        // Without the flag the page is as before; a non-boolean flag names the parameter.
        Assert.Null((await Json.ReadAsync(await auditor.GetAsync("api/v1/events?limit=5")))["proofs"]);
        using var bad = await auditor.GetAsync("api/v1/events?proof=1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("proof", (await Json.ReadAsync(bad))["errors"]![0]!["field"]!.GetValue<string>());

        // A role that may not read events gets no proofs either.
        using var user = server.Client(server.Token("user", "acme"));
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("api/v1/events?proof=true")).StatusCode);
    }

    [Fact]
    public async Task An_export_with_proofs_true_starts_with_the_checkpoint_and_proves_every_line_of_the_callers_tenant()
    {
        await using var server = await TestServer.StartAsync();
        await SeedAsync(server);
        var key = NoteVerifier.Parse((await server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim());

        using var auditor = server.Client(server.Token("auditor", "acme"));
        var lines = (await auditor.GetStringAsync("api/v1/events/export?proofs=true"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var checkpoint = Open(key, lines[0]["checkpoint"]!.GetValue<string>());
        Assert.Equal(61, checkpoint.TreeSize);
        Assert.Equal(60, lines.Count - 1);
        foreach (var line in lines.Skip(1))
        {
            Assert.Equal("acme", line["event"]!["tenant_id"]!.GetValue<string>());
            AssertProved(line["event"]!, line["proof"]!, checkpoint);
        }

        // A filter narrows what is proved; csv carries no proofs; the flag is a boolean.
        var filtered = (await auditor.GetStringAsync("api/v1/events/export?proofs=true&severities=critical")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1 + 6, filtered.Length);
        using var csv = await auditor.GetAsync("api/v1/events/export?proofs=true&format=csv");
        Assert.Equal(HttpStatusCode.BadRequest, csv.StatusCode);
        Assert.Equal("proofs", (await Json.ReadAsync(csv))["errors"]![0]!["field"]!.GetValue<string>());
        using var bad = await auditor.GetAsync("api/v1/events/export?proofs=yes");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    /// <summary>60 events of acme (every tenth critical) with one of beta at seq 31.</summary>
    private static async Task SeedAsync(TestServer server)
    {
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(0, 30).Select(i => Json.Event(i, severity: i % 10 == 0 ? "critical" : "info"))]);
        using var beta = server.Producer("beta");
        await Json.PostEventsAsync(beta, Json.Event(500));
        await Json.PostEventsAsync(acme, [.. Enumerable.Range(30, 30).Select(i => Json.Event(i, severity: i % 10 == 0 ? "critical" : "info"))]);
    }

    private static Checkpoint Open(NoteVerifier key, string note)
    {
        var opened = new CheckpointVerifier(key).Open(note);
        Assert.True(opened.Checkpoint is not null, opened.Error);
        return opened.Checkpoint!;
    }

    private static void AssertProved(JsonNode e, JsonNode proof, Checkpoint checkpoint)
    {
        var seq = e["seq"]!.GetValue<long>();
        Assert.Equal(seq - 1, proof["leaf_index"]!.GetValue<long>());
        Assert.Equal(checkpoint.TreeSize, proof["tree_size"]!.GetValue<long>());
        var path = proof["hashes"]!.AsArray().Select(h => Convert.FromHexString(h!.GetValue<string>())).ToList();
        var leaf = MerkleHash.Leaf(Convert.FromHexString(e["hash"]!.GetValue<string>()));
        Assert.True(MerkleProofs.VerifyInclusion(leaf, seq - 1, checkpoint.TreeSize, path, checkpoint.RootHash), $"seq {seq}");
    }
}
