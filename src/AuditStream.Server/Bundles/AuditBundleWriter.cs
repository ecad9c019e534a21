using System.Text;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;

namespace AuditStream.Server.Bundles;

/// <summary>What to put in a bundle: a seq range, the events of it a query selects, and the checkpoints to prove against.</summary>
/// <param name="FromSeq">First seq (inclusive, ≥ 1).</param>
/// <param name="ToSeq">Last seq (inclusive), or null for the largest checkpoint's size.</param>
/// <param name="Query">Which events of the range (filter, tenant); its seq bounds and limit are set here.</param>
/// <param name="FilterText">The filter as the user gave it, or null when <paramref name="Query"/> selects every event.</param>
/// <param name="Checkpoints">Signed notes to prove against (e.g. a cosigned one saved from the server); empty: the ledger's latest.</param>
internal sealed record BundleRequest(long FromSeq, long? ToSeq, EventQuery Query, string? FilterText, IReadOnlyList<string> Checkpoints);

/// <summary>Builds an <see cref="AuditBundle"/> from a ledger store, reading it only.</summary>
internal static class AuditBundleWriter
{
    private const int PageSize = 1_000;

    /// <summary>The bundle, or an error sentence (a checkpoint that is not this ledger's, a range no checkpoint covers).</summary>
    public static async Task<(AuditBundle? Bundle, string? Error)> CreateAsync(
        ILedgerStore store, NoteVerifier key, BundleRequest request, TimeProvider time, CancellationToken cancellationToken)
    {
        // Read-only beside a live server: the store is never initialized, so the ledger's size is only known to be at
        // least each checkpoint's once the event at that seq is found.
        var known = 0L;
        var proofs = new LedgerProofs(store, () => known);
        var checkpoints = new List<(string Note, Checkpoint Checkpoint)>();
        var notes = request.Checkpoints;
        if (notes.Count == 0)
        {
            notes = await store.GetLatestCheckpointAsync(cancellationToken) is { } latest
                ? [latest.SignedNote]
                : [];
        }

        var verifier = new CheckpointVerifier(key);
        foreach (var note in notes)
        {
            var opened = verifier.Open(note);
            if (!opened.Succeeded)
            {
                return (null, $"checkpoint: {opened.Error}");
            }

            var size = opened.Checkpoint.TreeSize;
            if (size == 0 || (await store.ReadEventHashesAsync(size, size + 1, cancellationToken)).Length == 0)
            {
                return (null, $"the checkpoint of size {size} is not one of this ledger: it has fewer events");
            }

            known = Math.Max(known, size);
            if (!(await proofs.RootAsync(size, cancellationToken)).AsSpan().SequenceEqual(opened.Checkpoint.RootHash))
            {
                return (null, $"the checkpoint of size {size} is not one of this ledger: its root differs");
            }

            checkpoints.Add((note.EndsWith('\n') ? note : note + "\n", opened.Checkpoint));
        }

        checkpoints = [.. checkpoints.DistinctBy(c => c.Checkpoint.TreeSize).OrderBy(c => c.Checkpoint.TreeSize)];
        if (checkpoints.Count == 0)
        {
            return (null, "the ledger has no signed checkpoint yet: start the server once (it signs on start and periodically)");
        }

        var treeSize = checkpoints[^1].Checkpoint.TreeSize;
        var to = request.ToSeq ?? treeSize;
        if (request.FromSeq < 1 || to < request.FromSeq)
        {
            return (null, $"--from must be at least 1 and at most --to ({to})");
        }

        if (to > treeSize)
        {
            return (null, $"no signed checkpoint covers seq {to}: the largest covers {treeSize} events (run the server to sign a newer one, or pass it with --checkpoint)");
        }

        var consistency = new List<BundleConsistency>();
        for (var i = 1; i < checkpoints.Count; i++)
        {
            var (from, upTo) = (checkpoints[i - 1].Checkpoint.TreeSize, checkpoints[i].Checkpoint.TreeSize);
            var proof = await proofs.ConsistencyAsync(from, upTo, cancellationToken);
            consistency.Add(new BundleConsistency(from, upTo, Hex(proof.Path)));
        }

        var events = new List<BundleEvent>();
        var query = request.Query with { AfterSeq = request.FromSeq - 1, UpToSeq = to, Limit = PageSize };
        while (true)
        {
            var page = await store.QueryAsync(query, cancellationToken);
            foreach (var record in page.Records)
            {
                var inclusion = await proofs.InclusionAsync(record.Seq, treeSize, cancellationToken);
                events.Add(new BundleEvent(
                    record.Seq, Encoding.UTF8.GetString(record.Body), Convert.ToHexStringLower(record.PrevHash), Convert.ToHexStringLower(record.Hash), Hex(inclusion.Path)));
            }

            if (page.ScannedThroughSeq is not { } through)
            {
                break;
            }

            query = query with { AfterSeq = through };
        }

        var bundle = new AuditBundle(
            AuditBundle.FormatV1, key.Name, key.VerifierKey, time.GetUtcNow(), request.FromSeq, to, request.FilterText,
            [.. checkpoints.Select(c => c.Note)], consistency, events);
        return (bundle, null);
    }

    private static string[] Hex(IReadOnlyList<byte[]> hashes) => [.. hashes.Select(Convert.ToHexStringLower)];
}
