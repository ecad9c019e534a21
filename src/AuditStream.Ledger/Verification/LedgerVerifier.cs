using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Verification;

/// <summary>
/// Re-walks the ledger from the store — hash chain, Merkle tree, persisted subtrees, stored checkpoints — and checks it
/// against a trusted checkpoint (DESIGN.md §4). It streams: memory does not grow with the ledger. Hashes of a chunk
/// are checked in parallel (each needs only its predecessor's stored hash); the first failure in seq order is reported.
/// </summary>
public sealed class LedgerVerifier(ILedgerStore store)
{
    private const int Chunk = 4096;

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
        return await run.WalkAsync(targets, trusted, cancellationToken);
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

        public async Task<VerificationReport> WalkAsync(List<(long Size, byte[] Root, bool Trusted)> targets, Checkpoint? trusted, CancellationToken cancellationToken)
        {
            var frontier = MerkleFrontier.Empty();
            var prevHash = new byte[32];
            var expected = 1L;
            var target = 0;
            var chunk = new List<LedgerRecord>(Chunk);
            var ok = new bool[Chunk];
            var leaves = new byte[Chunk * MerkleHash.Size];
            var lastVerifiedCheckpointSize = 0L;

            // Reading the store overlaps with checking: one task pulls chunks, this one verifies them.
            var chunks = Channel.CreateBounded<List<LedgerRecord>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reading = Task.Run(() => ReadChunksAsync(chunks.Writer, stopReading.Token), CancellationToken.None);
            try
            {
                await foreach (var received in chunks.Reader.ReadAllAsync(cancellationToken))
                {
                    chunk = received;
                    var failure = await CheckChunkAsync();
                    if (failure is not null)
                    {
                        return failure;
                    }
                }
            }
            finally
            {
                await stopReading.CancelAsync();
                await reading;
            }

            var size = expected - 1;
            if (target < targets.Count)
            {
                var (checkpointSize, _, isTrusted) = targets[target];
                var knownLarger = targets.Any(t => !t.Trusted && t.Size > size);
                var kind = isTrusted && !knownLarger ? TamperKind.RolledBack : TamperKind.Truncated;
                return Fail(kind, size + 1, kind == TamperKind.Truncated
                    ? $"the ledger ends at seq {size} but a checkpoint covers {checkpointSize} events: events after {size} were deleted"
                    : $"the ledger ends at seq {size} but the trusted checkpoint covers {checkpointSize} events and the store keeps no trace of them: it was rolled back to an older copy");
            }

            _ = trusted;
            return Fail(TamperKind.None, null, "intact");

            async Task<VerificationReport?> CheckChunkAsync()
            {
                if (chunk.Count == 0)
                {
                    return null;
                }

                // Each hash depends only on the previous record's stored hash, so the chunk is checked in parallel;
                // the Merkle leaf hashes are computed in the same pass.
                var first = prevHash;
                Parallel.For(0, chunk.Count, () => IncrementalHash.CreateHash(HashAlgorithmName.SHA256), (i, _, sha) =>
                {
                    Span<byte> computed = stackalloc byte[32];
                    sha.AppendData(i == 0 ? first : chunk[i - 1].Hash);
                    sha.AppendData(chunk[i].Body);
                    sha.GetHashAndReset(computed);
                    ok[i] = computed.SequenceEqual(chunk[i].Hash);
                    MerkleHash.Leaf(chunk[i].Hash, leaves.AsSpan(i * MerkleHash.Size, MerkleHash.Size));
                    return sha;
                }, sha => sha.Dispose());

                // A full, aligned chunk with no checkpoint inside it is one perfect subtree: its 256-leaf blocks are hashed
                // in parallel and appended whole. Otherwise leaves are appended one by one, checking checkpoints as they come.
                var aligned = chunk.Count == Chunk && frontier.Size % Chunk == 0
                    && !(target < targets.Count && targets[target].Size < frontier.Size + Chunk);
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (Validate(i) is { } invalid)
                    {
                        return invalid;
                    }

                    if (!aligned)
                    {
                        frontier.AppendLeaf(leaves.AsSpan(i * MerkleHash.Size, MerkleHash.Size), _completed);
                        if (CheckTargets() is { } mismatch)
                        {
                            return mismatch;
                        }
                    }
                }

                if (aligned)
                {
                    frontier.AppendBlocks(leaves, Chunk, _completed);
                    if (CheckTargets() is { } mismatch)
                    {
                        return mismatch;
                    }
                }

                chunk.Clear();
                return await CheckSubtreesAsync(cancellationToken);
            }

            VerificationReport? Validate(int i)
            {
                Span<byte> bodyPrev = stackalloc byte[32];
                var record = chunk[i];
                if (record.Seq != expected)
                {
                    return Fail(TamperKind.Missing, expected, $"seq {expected} is missing (the next stored seq is {record.Seq})");
                }

                if (!BodyFields.TryRead(record.Body, out var bodySeq, bodyPrev) || bodySeq != record.Seq)
                {
                    return Fail(TamperKind.Reordered, record.Seq, $"the event stored at seq {record.Seq} says it is seq {bodySeq}: rows were moved");
                }

                if (!bodyPrev.SequenceEqual(prevHash) || !ok[i])
                {
                    var kind = bodyPrev.SequenceEqual(prevHash) ? TamperKind.Modified : TamperKind.Reordered;
                    return Fail(kind, record.Seq, kind == TamperKind.Modified
                        ? $"the hash of seq {record.Seq} does not match its content: the event was modified"
                        : $"seq {record.Seq} does not chain from seq {record.Seq - 1}: rows were moved or replaced");
                }

                prevHash = record.Hash;
                _checked++;
                expected++;
                return null;
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

        private async Task ReadChunksAsync(ChannelWriter<List<LedgerRecord>> writer, CancellationToken cancellationToken)
        {
            try
            {
                var current = new List<LedgerRecord>(Chunk);
                await foreach (var record in store.ReadRangeAsync(1, long.MaxValue, cancellationToken))
                {
                    current.Add(record);
                    if (current.Count == Chunk)
                    {
                        await writer.WriteAsync(current, cancellationToken);
                        current = new List<LedgerRecord>(Chunk);
                    }
                }

                if (current.Count > 0)
                {
                    await writer.WriteAsync(current, cancellationToken);
                }

                writer.TryComplete();
            }
            catch (OperationCanceledException)
            {
                // The walk stopped at a finding or was cancelled.
                writer.TryComplete();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                writer.TryComplete(ex);
            }
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
