using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Merkle;

namespace AuditStream.Server.Tests.Streaming.Proofs;

/// <summary>
/// What a proof-carrying stream client must check, written from docs/stream-proofs.md with the Core Merkle and checkpoint
/// code: each checkpoint opens with the ledger's key, and each proof (inline or deferred) leads from the event's hash to
/// the root of the last checkpoint received before it.
/// </summary>
internal sealed class StreamProofChecker(NoteVerifier key)
{
    private readonly Dictionary<long, string> _awaiting = [];

    public Checkpoint? Checkpoint { get; private set; }

    /// <summary>Seqs whose inclusion verified, with whether the proof came inline.</summary>
    public Dictionary<long, bool> Verified { get; } = [];

    /// <summary>Seqs received as events, in order.</summary>
    public List<long> Events { get; } = [];

    public List<long> CheckpointSizes { get; } = [];

    /// <summary>Events received without a proof and not proved since.</summary>
    public IReadOnlyCollection<long> Awaiting => _awaiting.Keys;

    public void Observe(JsonNode message)
    {
        switch (message["type"]!.GetValue<string>())
        {
            case "audit.ledger.checkpoint":
                var opened = new CheckpointVerifier(key).Open(message["checkpoint"]!.GetValue<string>());
                Assert.True(opened.Succeeded, opened.Error);
                Assert.Equal(message["tree_size"]!.GetValue<long>(), opened.Checkpoint!.TreeSize);
                Assert.True(Checkpoint is null || opened.Checkpoint.TreeSize > Checkpoint.TreeSize, "checkpoints only grow");
                Checkpoint = opened.Checkpoint;
                CheckpointSizes.Add(Checkpoint.TreeSize);
                break;
            case "audit.event.published":
                var seq = message["seq"]!.GetValue<long>();
                var hash = message["audit_event"]!["hash"]!.GetValue<string>();
                Events.Add(seq);
                if (message["proof"] is { } inline)
                {
                    Prove(seq, hash, inline);
                    Verified[seq] = true;
                }
                else
                {
                    _awaiting[seq] = hash;
                }

                break;
            case "audit.event.proof":
                var proved = message["seq"]!.GetValue<long>();
                Assert.True(_awaiting.Remove(proved, out var awaited), $"a proof for seq {proved}, which was not sent without one");
                Prove(proved, awaited!, message["proof"]!);
                Verified[proved] = false;
                break;
        }
    }

    private void Prove(long seq, string hashHex, JsonNode proof)
    {
        Assert.True(Checkpoint is not null, $"seq {seq}: a proof before any checkpoint");
        Assert.Equal(seq - 1, proof["leaf_index"]!.GetValue<long>());
        Assert.Equal(Checkpoint!.TreeSize, proof["tree_size"]!.GetValue<long>());
        var path = proof["hashes"]!.AsArray().Select(h => Convert.FromBase64String(h!.GetValue<string>())).ToList();
        var leaf = MerkleHash.Leaf(Convert.FromHexString(hashHex));
        Assert.True(MerkleProofs.VerifyInclusion(leaf, seq - 1, Checkpoint.TreeSize, path, Checkpoint.RootHash), $"seq {seq}: the proof does not lead to the checkpoint's root");
    }
}
