using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Tests.Proofs;

public sealed class LedgerProofsTests
{
    [Fact]
    public async Task Proofs_over_a_ledger_past_two_tile_levels_verify_and_cost_logarithmic_reads()
    {
        GatedStore? counting = null;
        await using var h = await WriterHarness.StartAsync(decorate: s => counting = new GatedStore(s));
        const int Size = 70_000; // beyond 65,536: level-2 subtrees are persisted and used
        for (var b = 0; b < Size / 1_000; b++)
        {
            await h.Writer.AppendAsync([.. Enumerable.Range(b * 1_000, 1_000).Select(i => TestEvents.Prepare(i))]);
        }

        var proofs = new LedgerProofs(h.Store, () => h.Writer.Head.Size);
        var root = h.Writer.Head.RootHash;
        counting!.HashReads = 0;
        counting.HashesRead = 0;
        Assert.Equal(root, await proofs.RootAsync(Size, CancellationToken.None));
        Assert.True(counting.HashReads <= 8 && counting.HashesRead <= 8 * 256, $"the root of {Size} events took {counting.HashReads} reads of {counting.HashesRead} hashes");

        var random = new Random(7);
        var bound = (2 * (int)Math.Ceiling(Math.Log2(Size))) + 2;
        foreach (var seq in Enumerable.Range(0, 40).Select(_ => random.NextInt64(1, Size + 1)).Append(1).Append(Size).Append(65_536).Append(65_537))
        {
            counting.HashReads = 0;
            counting.HashesRead = 0;
            var proof = await proofs.InclusionAsync(seq, Size, CancellationToken.None);
            Assert.True(counting.HashReads <= bound, $"inclusion of {seq} took {counting.HashReads} reads (bound {bound})");

            // Each read is at most one tile (≤ 128 hashes below a stored level): never a rebuild of the tree.
            Assert.True(counting.HashesRead <= bound * 128, $"inclusion of {seq} read {counting.HashesRead} hashes");
            Assert.True(MerkleProofs.VerifyInclusion(proof.LeafHash, seq - 1, Size, proof.Path, root), $"seq {seq}");

            counting.HashReads = 0;
            var consistency = await proofs.ConsistencyAsync(seq, Size, CancellationToken.None);
            Assert.True(counting.HashReads <= bound, $"consistency from {seq} took {counting.HashReads} reads (bound {bound})");
            var oldRoot = await proofs.RootAsync(seq, CancellationToken.None);
            Assert.True(MerkleProofs.VerifyConsistency(seq, Size, oldRoot, root, consistency.Path), $"from {seq}");
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => proofs.InclusionAsync(Size + 1, Size, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => proofs.InclusionAsync(1, Size + 1, CancellationToken.None));
    }
}
