using System.Diagnostics;
using AuditStream.Ledger;
using AuditStream.Merkle;

namespace AuditStream.Benchmarks;

/// <summary>Proof generation time at N events: random inclusion proofs (at the full size) and consistency proofs, each verified.</summary>
internal static class ProofTiming
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var events = args.Long("events", 10_000_000);
        var count = args.Int("proofs", 1_000);
        using var dir = new LedgerDirectory(args.String("dir"));
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await LedgerFill.FillAsync(ledger, events);
        var size = ledger.Head.Size;
        var root = ledger.Head.RootHash;
        var random = new Random(42);

        // Warm-up
        for (var i = 0; i < 50; i++)
        {
            await ledger.Proofs.InclusionAsync(random.NextInt64(1, size + 1), size, CancellationToken.None);
        }

        var inclusion = new double[count];
        var pathLength = 0;
        for (var i = 0; i < count; i++)
        {
            var seq = random.NextInt64(1, size + 1);
            var start = Stopwatch.GetTimestamp();
            var proof = await ledger.Proofs.InclusionAsync(seq, size, CancellationToken.None);
            inclusion[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            pathLength = Math.Max(pathLength, proof.Path.Count);
            if (!MerkleProofs.VerifyInclusion(proof.LeafHash, seq - 1, size, proof.Path, root))
            {
                Console.WriteLine($"inclusion proof of seq {seq} did not verify");
                return 1;
            }
        }

        var consistency = new double[count];
        for (var i = 0; i < count; i++)
        {
            var from = random.NextInt64(1, size + 1);
            var start = Stopwatch.GetTimestamp();
            var proof = await ledger.Proofs.ConsistencyAsync(from, size, CancellationToken.None);
            var oldRoot = await ledger.Proofs.RootAsync(from, CancellationToken.None);
            consistency[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!MerkleProofs.VerifyConsistency(from, size, oldRoot, root, proof.Path))
            {
                Console.WriteLine($"consistency proof {from}->{size} did not verify");
                return 1;
            }
        }

        Array.Sort(inclusion);
        Array.Sort(consistency);
        Console.WriteLine(
            $"proofs tree_size={size} inclusion_p50_ms={inclusion[count / 2]:F3} inclusion_p99_ms={inclusion[(int)(count * 0.99)]:F3} max_path={pathLength} " +
            $"consistency_plus_old_root_p50_ms={consistency[count / 2]:F3} consistency_plus_old_root_p99_ms={consistency[(int)(count * 0.99)]:F3}");
        return 0;
    }
}
