using System.Diagnostics;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Verification;

/// <summary>
/// Re-walks the ledger from the store — hash chain, Merkle tree, persisted subtrees, stored checkpoints — and checks it
/// against a trusted checkpoint (DESIGN.md §4). It streams: memory does not grow with the ledger. Chunks of 4,096 seqs
/// are read and hashed on every core (each event needs only its predecessor's stored hash), then joined in seq order;
/// the first failure in seq order is reported.
/// </summary>
public sealed class LedgerVerifier(ILedgerStore store)
{
    /// <summary>Verifies the whole ledger.</summary>
    public async Task<VerificationReport> VerifyAsync(VerificationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var run = new Run(store, clock);

        var key = options.VerifierKey;
        Checkpoint? trusted = null;
        if (options.TrustedCheckpoint is not null)
        {
            var opened = OpenCheckpoint(options.TrustedCheckpoint, key, "the trusted checkpoint");
            if (opened.Failure is not null)
            {
                return run.Fail(TamperKind.BadSignature, null, opened.Failure);
            }

            trusted = opened.Checkpoint;
        }

        var stored = new List<(long Size, byte[] Root)>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(cancellationToken))
        {
            var opened = OpenCheckpoint(checkpoint.SignedNote, key, $"the stored checkpoint at tree size {checkpoint.TreeSize}");
            if (opened.Failure is not null)
            {
                return run.Fail(TamperKind.BadSignature, null, opened.Failure);
            }

            if (opened.Checkpoint!.TreeSize != checkpoint.TreeSize || !opened.Checkpoint.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash))
            {
                return run.Fail(TamperKind.Rewritten, null, $"the stored checkpoint row at tree size {checkpoint.TreeSize} does not match its own signed note");
            }

            stored.Add((checkpoint.TreeSize, checkpoint.RootHash));
        }

        var targets = stored.Where(s => s.Size > 0).Select(s => (s.Size, s.Root, Trusted: false)).ToList();
        if (trusted is { TreeSize: > 0 })
        {
            targets.Add((trusted.TreeSize, trusted.RootHash, Trusted: true));
        }

        targets.Sort((a, b) => a.Size.CompareTo(b.Size));
        return await run.WalkAsync(targets, options.Progress, cancellationToken);
    }

    /// <summary>Reads a checkpoint note, checking its signature (and origin) when a verifier key is given.</summary>
    internal static (Checkpoint? Checkpoint, string? Failure) OpenCheckpoint(string note, string? key, string what)
    {
        if (key is null)
        {
            // Without a key only the body can be read; the root is still compared with the events.
            if (!SignedNote.TryParse(note, out var parsed, out var parseError))
            {
                return (null, $"{what} is malformed: {parseError}");
            }

            return Checkpoint.TryParse(parsed.Text, out var body, out var bodyError) ? (body, null) : (null, $"{what} is malformed: {bodyError}");
        }

        if (!NoteVerifier.TryParse(key, out var verifier, out var keyError))
        {
            return (null, $"the verifier key is malformed: {keyError}");
        }

        var opened = new CheckpointVerifier(verifier).Open(note);
        return opened.Checkpoint is not null ? (opened.Checkpoint, null) : (null, $"{what} does not verify: {opened.Error}");
    }

    private sealed class Run(ILedgerStore store, Stopwatch clock)
    {
        private readonly List<SubtreeHash> _completed = [];
        private long _checked;
        private int _checkpointsChecked;

        public VerificationReport Fail(TamperKind kind, long? seq, string message) =>
            new(kind, seq, message, _checked, _checkpointsChecked, clock.Elapsed);

        public async Task<VerificationReport> WalkAsync(List<(long Size, byte[] Root, bool Trusted)> targets, IProgress<VerificationProgress>? progress, CancellationToken cancellationToken)
        {
            var frontier = MerkleFrontier.Empty();
            var target = 0;
            var lastVerifiedCheckpointSize = 0L;
            var lastHash = new byte[MerkleHash.Size];

            // Rows appended while this runs are left for the next run; the ledger ends where it ended at the start.
            var end = store is ILedgerScan scan ? await scan.ReadLastSeqAsync(cancellationToken) : (await store.ReadHeadAsync(cancellationToken)).LastSeq;
            var chunks = (end + ChunkCheck.Size - 1) / ChunkCheck.Size;

            // Workers read and hash chunks ahead, in parallel (each on its own connection); this loop joins them in
            // seq order: the chain across chunk boundaries, the Merkle tree, checkpoints and persisted subtrees.
            var workers = Math.Max(1, Environment.ProcessorCount);
            var idle = new Stack<ChunkCheck>();
            var inFlight = new Queue<Task<ChunkCheck>>();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var next = 0L;
            try
            {
                while (true)
                {
                    while (inFlight.Count < 2 * workers && next < chunks)
                    {
                        var worker = idle.Count > 0 ? idle.Pop() : new ChunkCheck();
                        var first = (next * ChunkCheck.Size) + 1;
                        var expected = (int)Math.Min(ChunkCheck.Size, end - first + 1);
                        inFlight.Enqueue(Task.Run(() => worker.RunAsync(store, first, expected, stop.Token), CancellationToken.None));
                        next++;
                    }

                    if (inFlight.Count == 0)
                    {
                        break;
                    }

                    var chunk = await inFlight.Dequeue();
                    var failure = await JoinAsync(chunk);
                    lastHash = chunk.LastHash.ToArray();
                    idle.Push(chunk);
                    if (failure is not null)
                    {
                        return failure;
                    }

                    progress?.Report(new VerificationProgress(_checked, end));
                }
            }
            finally
            {
                await stop.CancelAsync();
                foreach (var pending in inFlight)
                {
                    try
                    {
                        idle.Push(await pending);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopped at a finding or cancelled.
                    }
                }

                foreach (var worker in idle)
                {
                    worker.Dispose();
                }
            }

            var size = _checked;
            if (target < targets.Count)
            {
                var (checkpointSize, _, isTrusted) = targets[target];
                var knownLarger = targets.Any(t => !t.Trusted && t.Size > size);
                var kind = isTrusted && !knownLarger ? TamperKind.RolledBack : TamperKind.Truncated;
                return Fail(kind, size + 1, kind == TamperKind.Truncated
                    ? $"the ledger ends at seq {size} but a checkpoint covers {checkpointSize} events: events after {size} were deleted"
                    : $"the ledger ends at seq {size} but the trusted checkpoint covers {checkpointSize} events and the store keeps no trace of them: it was rolled back to an older copy");
            }

            return Fail(TamperKind.None, null, "intact");

            async Task<VerificationReport?> JoinAsync(ChunkCheck chunk)
            {
                if (chunk.FirstSeq > 1 && (!chunk.HasPredecessor || !chunk.PredecessorHash.SequenceEqual(lastHash)))
                {
                    // The previous chunk ended intact, so its last row changed or vanished while this one was read.
                    return Fail(TamperKind.Missing, chunk.FirstSeq - 1, $"seq {chunk.FirstSeq - 1} changed or disappeared during verification");
                }

                // A complete chunk with no checkpoint inside it is one perfect subtree, its tiles hashed by the worker.
                // Otherwise leaves are appended one by one, checking checkpoints as they come.
                if (chunk.IsComplete && !(target < targets.Count && targets[target].Size < frontier.Size + ChunkCheck.Size))
                {
                    _checked += chunk.Count;
                    frontier.AppendTiles(chunk.TileRoots, _completed);
                    if (CheckTargets() is { } mismatch)
                    {
                        return mismatch;
                    }
                }
                else
                {
                    for (var i = 0; i < chunk.Count; i++)
                    {
                        _checked++;
                        frontier.AppendLeaf(chunk.Leaves.Slice(i * MerkleHash.Size, MerkleHash.Size), _completed);
                        if (CheckTargets() is { } mismatch)
                        {
                            return mismatch;
                        }
                    }
                }

                if (await CheckSubtreesAsync(cancellationToken) is { } subtree)
                {
                    return subtree;
                }

                var bad = chunk.FirstSeq + chunk.Count;
                if (chunk.Failure != TamperKind.None)
                {
                    return Fail(chunk.Failure, bad, chunk.FailureMessage!);
                }

                return chunk.Count < chunk.Expected ? await MissingAsync(bad) : null;
            }

            VerificationReport? CheckTargets()
            {
                while (target < targets.Count && targets[target].Size == frontier.Size)
                {
                    var (checkpointSize, root, isTrusted) = targets[target];
                    _checkpointsChecked++;
                    if (!frontier.Root().AsSpan().SequenceEqual(root))
                    {
                        return Fail(TamperKind.Rewritten, lastVerifiedCheckpointSize + 1,
                            $"the Merkle root of the first {checkpointSize} events differs from the {(isTrusted ? "trusted" : "stored")} checkpoint: " +
                            $"history between seq {lastVerifiedCheckpointSize + 1} and {checkpointSize} was rewritten and re-hashed");
                    }

                    lastVerifiedCheckpointSize = checkpointSize;
                    target++;
                }

                if (target < targets.Count && targets[target].Size < frontier.Size)
                {
                    throw new UnreachableException("checkpoint sizes are visited in order");
                }

                return null;
            }
        }

        private async Task<VerificationReport> MissingAsync(long seq)
        {
            await foreach (var record in store.ReadRangeAsync(seq, long.MaxValue, CancellationToken.None))
            {
                return Fail(TamperKind.Missing, seq, $"seq {seq} is missing (the next stored seq is {record.Seq})");
            }

            return Fail(TamperKind.Missing, seq, $"seq {seq} is missing");
        }

        private async Task<VerificationReport?> CheckSubtreesAsync(CancellationToken cancellationToken)
        {
            foreach (var level in _completed.GroupBy(s => s.Level))
            {
                var items = level.OrderBy(s => s.Index).ToList();
                byte[][] persisted;
                try
                {
                    persisted = await store.ReadSubtreeHashesAsync(level.Key, items[0].Index, items[^1].Index + 1, cancellationToken);
                }
                catch (LedgerCorruptException ex)
                {
                    return Fail(TamperKind.SubtreeMismatch, FirstSeqOf(items[0]), ex.Message);
                }

                for (var i = 0; i < items.Count; i++)
                {
                    if (!persisted[i].AsSpan().SequenceEqual(items[i].Hash))
                    {
                        var from = FirstSeqOf(items[i]);
                        return Fail(TamperKind.SubtreeMismatch, from,
                            $"the persisted Merkle subtree over seqs {from}..{from + (1L << (8 * items[i].Level)) - 1} differs from the events: proofs served from it would be wrong");
                    }
                }
            }

            _completed.Clear();
            return null;
        }

        private static long FirstSeqOf(SubtreeHash subtree) => (subtree.Index << (8 * subtree.Level)) + 1;
    }
}
