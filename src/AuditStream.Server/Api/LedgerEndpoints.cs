using AuditStream.Security.Attributes;
using AuditStream.Server.Auth.Attributes;
using AuditStream.Server.Hosting;
using AuditStream.Server.Witnessing;

namespace AuditStream.Server.Api;

/// <summary>What lets anyone check the ledger without trusting the server: signed checkpoints, the public key, and RFC 9162 proofs.</summary>
internal static class LedgerEndpoints
{
    public static void MapLedgerEndpoints(this IEndpointRouteBuilder app)
    {
        // Public on purpose: a checkpoint and the key that signed it are what auditors copy to storage the server cannot rewrite.
        app.MapGet("/api/v1/ledger/checkpoint", GetCheckpointAsync).AllowAnonymous();
        app.MapGet("/api/v1/ledger/public-key", GetPublicKey).AllowAnonymous();
        var proof = AttributeRulesRegistration.PolicyFor(AuthorizationActions.Proof);
        app.MapGet("/api/v1/ledger/proofs/inclusion", GetInclusionAsync).RequireAuthorization().RequireAuthorization(proof);
        app.MapGet("/api/v1/ledger/proofs/consistency", GetConsistencyAsync).RequireAuthorization().RequireAuthorization(proof);
    }

    private static async Task<IResult> GetCheckpointAsync(LedgerService ledgers, CheckpointWitnessing witnessing, CancellationToken cancellationToken)
    {
        var ledger = ledgers.Ledger;
        var checkpoint = ledger.Checkpoints.Latest;
        if (checkpoint is null || checkpoint.TreeSize < ledger.Head.Size)
        {
            checkpoint = await ledger.Checkpoints.PublishNowAsync(cancellationToken) ?? checkpoint;
        }

        return checkpoint is null
            ? Problems.NotFound("The ledger is empty: there is no checkpoint yet.")
            : Results.Text(witnessing.Cosigned.Decorate(checkpoint), "text/plain; charset=utf-8");
    }

    private static IResult GetPublicKey(LedgerService ledgers) =>
        Results.Text(ledgers.Ledger.VerifierKey + "\n", "text/plain; charset=utf-8");

    private static async Task<IResult> GetInclusionAsync(HttpRequest request, LedgerService ledgers, AttributeAccess access, CancellationToken cancellationToken)
    {
        var ledger = ledgers.Ledger;
        var size = ledger.Head.Size;
        if (!TryLong(request, "seq", null, out var seq, out var error)
            || !TryLong(request, "tree_size", size, out var treeSize, out error))
        {
            return error!;
        }

        if (treeSize < 1 || treeSize > size)
        {
            return Problems.BadRequest($"The ledger has {size} events.", "tree_size", $"must be between 1 and {size}");
        }

        if (seq < 1 || seq > treeSize)
        {
            return Problems.BadRequest($"The tree has {treeSize} events.", "seq", $"must be between 1 and tree_size ({treeSize})");
        }

        // Hashes are public (tiles), so without rules any reader proves any seq; with rules, only an event the caller's
        // tenant and the proof rules show, and any other seq answers 404 like a missing one.
        if (access.Policy.Enabled)
        {
            var scope = access.Scope(request.HttpContext.User, AuthorizationActions.Proof);
            if (await ledger.Store.GetAsync(seq, cancellationToken) is not { } record || !scope.CoversTenant(record.Event.TenantId) || !scope.PassesRules(record.Event))
            {
                return Problems.NotFound($"No event with seq {seq} is visible to this token for a proof.");
            }
        }

        var proof = await ledger.Proofs.InclusionAsync(seq, treeSize, cancellationToken);
        var root = await ledger.Proofs.RootAsync(treeSize, cancellationToken);
        return Results.Json(
            new InclusionProofResponse(seq, seq - 1, treeSize, Hex(proof.EventHash), Hex(proof.LeafHash), Hex(root), proof.Path.Select(Hex).ToArray()),
            ApiJsonContext.Default.InclusionProofResponse);
    }

    private static async Task<IResult> GetConsistencyAsync(HttpRequest request, LedgerService ledgers, CancellationToken cancellationToken)
    {
        var ledger = ledgers.Ledger;
        var size = ledger.Head.Size;
        if (!TryLong(request, "from", null, out var from, out var error) || !TryLong(request, "to", size, out var to, out error))
        {
            return error!;
        }

        if (to < 1 || to > size)
        {
            return Problems.BadRequest($"The ledger has {size} events.", "to", $"must be between 1 and {size}");
        }

        if (from < 1 || from > to)
        {
            return Problems.BadRequest("A consistency proof goes from an older tree to a newer one.", "from", $"must be between 1 and to ({to})");
        }

        var proof = await ledger.Proofs.ConsistencyAsync(from, to, cancellationToken);
        var fromRoot = await ledger.Proofs.RootAsync(from, cancellationToken);
        var toRoot = await ledger.Proofs.RootAsync(to, cancellationToken);
        return Results.Json(
            new ConsistencyProofResponse(from, to, Hex(fromRoot), Hex(toRoot), proof.Path.Select(Hex).ToArray()),
            ApiJsonContext.Default.ConsistencyProofResponse);
    }

    internal static bool TryLong(HttpRequest request, string name, long? fallback, out long value, out IResult? error)
    {
        error = null;
        var raw = request.Query[name].ToString();
        if (raw.Length == 0 && fallback is { } f)
        {
            value = f;
            return true;
        }

        if (long.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        error = Problems.BadRequest($"Query parameter '{name}' is {(raw.Length == 0 ? "missing" : $"'{raw}'")}.", name, "must be a non-negative integer");
        return false;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
