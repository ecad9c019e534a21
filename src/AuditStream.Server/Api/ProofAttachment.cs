using System.Text.Json;
using AuditStream.Ledger;
using AuditStream.Ledger.Storage;

namespace AuditStream.Server.Api;

/// <summary>
/// What proof-carrying reads share (<c>GET /api/v1/events/{seq}?proof=true</c>, <c>GET /api/v1/events?proof=true</c>,
/// <c>GET /api/v1/events/export?proofs=true</c>): the signed checkpoint the proofs lead to, and one proof's JSON shape
/// <c>{"leaf_index", "tree_size", "hashes"}</c>. Proofs are only ever built for records the caller may already read.
/// </summary>
internal static class ProofAttachment
{
    /// <summary>
    /// The latest signed checkpoint if it covers <paramref name="size"/> events, else one signed now; null when none
    /// covers them (another instance leads and has not signed yet).
    /// </summary>
    public static async Task<StoredCheckpoint?> CoveringAsync(AuditLedger ledger, long size, CancellationToken cancellationToken)
    {
        var checkpoint = ledger.Checkpoints.Latest;
        if (checkpoint is null || checkpoint.TreeSize < size)
        {
            checkpoint = await ledger.Checkpoints.PublishNowAsync(cancellationToken) ?? checkpoint;
        }

        return checkpoint is null || checkpoint.TreeSize < size ? null : checkpoint;
    }

    /// <summary>The answer when no checkpoint covers the events asked for yet.</summary>
    public static IResult NoCheckpoint() => Problems.Unavailable("No signed checkpoint covers these events yet.", 1);

    /// <summary>
    /// Reads a boolean query flag: false when absent, or a 400 naming it when it is neither <c>true</c> nor <c>false</c>.
    /// </summary>
    public static bool TryFlag(HttpRequest request, string name, out bool value, out IResult? error)
    {
        error = null;
        value = false;
        var raw = request.Query[name].ToString();
        switch (raw)
        {
            case "":
            case "false":
                return true;
            case "true":
                value = true;
                return true;
            default:
                error = Problems.BadRequest($"{name}={raw} is not a boolean.", name, "must be true or false");
                return false;
        }
    }

    /// <summary>Writes <c>{"leaf_index", "tree_size", "hashes": [hex…]}</c> for the event at <paramref name="seq"/>.</summary>
    public static void Write(Utf8JsonWriter writer, long seq, long treeSize, IReadOnlyList<byte[]> hashes)
    {
        writer.WriteStartObject();
        writer.WriteNumber("leaf_index", seq - 1);
        writer.WriteNumber("tree_size", treeSize);
        writer.WriteStartArray("hashes");
        foreach (var hash in hashes)
        {
            writer.WriteStringValue(Convert.ToHexStringLower(hash));
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The inclusion proof hashes of <paramref name="seq"/> in the tree of <paramref name="treeSize"/>.</summary>
    public static async Task<IReadOnlyList<byte[]>> PathAsync(AuditLedger ledger, long seq, long treeSize, CancellationToken cancellationToken) =>
        (await ledger.Proofs.InclusionAsync(seq, treeSize, cancellationToken)).Path;
}
