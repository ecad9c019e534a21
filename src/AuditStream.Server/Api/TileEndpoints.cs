using AuditStream.Merkle;
using AuditStream.Server.Hosting;
using AuditStream.Server.Witnessing;

namespace AuditStream.Server.Api;

/// <summary>
/// The ledger as C2SP tlog-tiles under <c>/api/v1/ledger/tlog/</c>: <c>checkpoint</c>, <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c>
/// and <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>. Public like the checkpoint: tiles hold hashes only (see <see cref="AuditStream.Ledger.Proofs.LedgerTiles"/>).
/// </summary>
internal static class TileEndpoints
{
    /// <summary>Where the tile tree is served; a tlog client's log URL.</summary>
    public const string Prefix = "/api/v1/ledger/tlog";

    public static void MapTileEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(Prefix + "/checkpoint", GetCheckpoint).AllowAnonymous();
        app.MapGet(Prefix + "/tile/{**path}", GetTileAsync).AllowAnonymous();
    }

    /// <summary>
    /// The latest checkpoint the timer signed (every CheckpointInterval): a mirror polling it must not make the server sign
    /// and store a checkpoint per request. Tiles exist for every committed size, so an older checkpoint is always complete.
    /// </summary>
    private static IResult GetCheckpoint(HttpResponse response, LedgerService ledgers, CheckpointWitnessing witnessing)
    {
        response.Headers.CacheControl = "no-cache";
        return ledgers.Ledger.Checkpoints.Latest is { } checkpoint
            ? Results.Text(witnessing.Cosigned.Decorate(checkpoint), "text/plain; charset=utf-8")
            : Problems.NotFound("No checkpoint has been signed yet.");
    }

    private static async Task<IResult> GetTileAsync(string? path, HttpResponse response, LedgerService ledgers, CancellationToken cancellationToken)
    {
        if (path is null || !TileAddress.TryParse(path, out var tile))
        {
            return Problems.BadRequest($"'{path}' is not a tile path.", "path", TileAddress.PathRule);
        }

        var bytes = await ledgers.Ledger.Tiles.ReadAsync(tile, cancellationToken);
        if (bytes is null)
        {
            return Problems.NotFound($"The tree does not hold tile/{tile.Path} yet ({ledgers.Ledger.Head.Size} events).");
        }

        // A tile never changes once it exists (a partial one is a prefix of its full tile, under its own name).
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return Results.Bytes(bytes, "application/octet-stream");
    }
}
