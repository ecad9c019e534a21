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
