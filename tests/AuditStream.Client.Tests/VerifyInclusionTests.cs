using AuditStream.Checkpoints;
using AuditStream.Client.Tests.Support;
using AuditStream.Client.Verification;

namespace AuditStream.Client.Tests;

public sealed class VerifyInclusionTests
{
    [Fact]
    public async Task Inclusion_verifies_against_the_pinned_key_and_fails_against_another_key()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 40).Select(i => Sample.Event(i))]);
        var receipt = await producer.PublishAsync(Sample.Event(40));
        await producer.PublishAsync([.. Enumerable.Range(41, 9).Select(i => Sample.Event(i))]);

        var pinned = (await server.Server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim();
        await using var reader = server.Client(server.ReaderToken(), o => o.TrustedPublicKey = pinned);
        var valid = await reader.VerifyInclusionAsync(receipt);
        Assert.True(valid.IsValid, valid.Failure);
        Assert.True(valid.Checkpoint!.TreeSize >= 41);

        using var other = NoteSigner.Generate(NoteVerifier.Parse(pinned).Name);
        var wrongKey = await reader.VerifyInclusionAsync(receipt, other.VerifierKey);
        Assert.False(wrongKey.IsValid);
        Assert.StartsWith("checkpoint: unknown_key", wrongKey.Failure, StringComparison.Ordinal);

        var forged = await reader.VerifyInclusionAsync(receipt with { Hash = new string('a', 64) });
        Assert.False(forged.IsValid);
        Assert.Contains("does not lead to the checkpoint's root", forged.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_verified_read_checks_the_proof_and_the_events_own_content_and_catches_an_altered_field()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 10).Select(i => Sample.Event(i))]);
        var withPii = await producer.PublishAsync(Sample.Event(10) with
        {
            SubjectId = "subject-1",
            Pii = System.Text.Json.JsonDocument.Parse("""{"email":"a@example.com"}""").RootElement.Clone(),
        });
        var pinned = (await server.Server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim();

        await using var admin = server.Client(server.ReaderToken(), o => o.TrustedPublicKey = pinned);
        foreach (var seq in new[] { 3L, withPii.Seq })
        {
            var read = await admin.GetVerifiedEventAsync(seq);
            Assert.True(read.IsValid, read.Inclusion.Failure ?? read.ContentFailure);
            Assert.Equal(seq, read.Event.GetProperty("seq").GetInt64());
        }

        // An auditor sees pii masked, and the stored envelope beside it: the content still hashes to the proved hash.
        await using var auditor = server.Client(server.AuditorToken(), o => o.TrustedPublicKey = pinned);
        var masked = await auditor.GetVerifiedEventAsync(withPii.Seq);
        Assert.True(masked.IsValid, masked.Inclusion.Failure ?? masked.ContentFailure);
        Assert.True(masked.ContentVerified);
        Assert.Equal("[masked]", masked.Event.GetProperty("pii").GetString());

        // An altered envelope is caught like any other field.
        await using var tampered = server.Client(server.AuditorToken(), o => o.TrustedPublicKey = pinned, new RewritingHandler("\"alg\":\"A256GCM\"", "\"alg\":\"A128GCM\""));
        Assert.False((await tampered.GetVerifiedEventAsync(withPii.Seq)).ContentVerified);

        // A field changed in transit: the proof of the stored hash still holds, the content does not.
        await using var fooled = server.Client(server.ReaderToken(), o => o.TrustedPublicKey = pinned, new RewritingHandler("\"user-2\"", "\"user-9\""));
        var altered = await fooled.GetVerifiedEventAsync(3);
        Assert.Equal("user-9", altered.Event.GetProperty("actor_id").GetString());
        Assert.False(altered.IsValid);
        Assert.Contains("does not hash to its hash", altered.ContentFailure, StringComparison.Ordinal);
    }

    /// <summary>Rewrites every answer's body, as a party in the middle would.</summary>
    private sealed class RewritingHandler(string from, string to) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var type = response.Content.Headers.ContentType;
            response.Content = new StringContent(body.Replace(from, to, StringComparison.Ordinal));
            response.Content.Headers.ContentType = type;
            return response;
        }
    }

    [Fact]
    public void Inclusion_check_fails_on_a_tampered_proof_or_checkpoint()
    {
        using var signer = NoteSigner.Generate("test.example/log");
        var hashes = Enumerable.Range(0, 7).Select(i => System.Security.Cryptography.SHA256.HashData([(byte)i])).ToArray();
        var leaves = hashes.Select(h => Merkle.MerkleHash.Leaf(h)).ToArray();
        var root = Root(leaves);
        var signed = new CheckpointSigner(signer).Sign(new Checkpoint(signer.Name, leaves.Length, root));
        var receipt = new AuditReceipt(Guid.NewGuid(), 3, Convert.ToHexStringLower(hashes[2]), DateTimeOffset.UtcNow, false);

        // The proof for leaf index 2 of 7: sibling leaf 3, node (0,1), node (4..6).
        var path = new[] { leaves[3], Merkle.MerkleHash.Node(leaves[0], leaves[1]), Root(leaves[4..]) };
        InclusionProofDto Proof(byte[][] p) => new(3, 2, 7, receipt.Hash, "", "", [.. p.Select(Convert.ToHexStringLower)]);

        Assert.True(InclusionCheck.Verify(receipt, signed, Proof(path), signer.Verifier).IsValid);

        var tamperedPath = path.Select(p => (byte[])p.Clone()).ToArray();
        tamperedPath[1][0] ^= 1;
        Assert.False(InclusionCheck.Verify(receipt, signed, Proof(tamperedPath), signer.Verifier).IsValid);

        var tamperedCheckpoint = signed.Replace(Convert.ToBase64String(root), Convert.ToBase64String(leaves[0]), StringComparison.Ordinal);
        var opened = InclusionCheck.Verify(receipt, tamperedCheckpoint, Proof(path), signer.Verifier);
        Assert.False(opened.IsValid);
        Assert.StartsWith("checkpoint: bad_signature", opened.Failure, StringComparison.Ordinal);

        Assert.False(InclusionCheck.Verify(receipt with { Seq = 4 }, signed, Proof(path) with { Seq = 4 }, signer.Verifier).IsValid);
    }

    private static byte[] Root(byte[][] leaves)
    {
        if (leaves.Length == 1)
        {
            return leaves[0];
        }

        // RFC 9162 §2.1.1: split at the largest power of two smaller than n.
        var k = 1;
        while (k * 2 < leaves.Length)
        {
            k *= 2;
        }

        return Merkle.MerkleHash.Node(Root(leaves[..k]), Root(leaves[k..]));
    }
}
