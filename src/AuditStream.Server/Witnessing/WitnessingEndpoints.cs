using AuditStream.Server.Api;
using AuditStream.Server.Hosting;

namespace AuditStream.Server.Witnessing;

/// <summary><c>GET /api/v1/ledger/checkpoint/witnessed</c>: the latest checkpoint that the witness quorum cosigned, with the cosignatures.</summary>
internal static class WitnessingEndpoints
{
    public static void MapWitnessingEndpoints(this IEndpointRouteBuilder app)
    {
        // Public like the checkpoint itself: it holds a tree size, a root and signatures, nothing a tenant owns.
        app.MapGet("/api/v1/ledger/checkpoint/witnessed", GetWitnessed).AllowAnonymous();

        // Creates the per-witness gauges (nothing else asks for them).
        app.ServiceProvider.GetRequiredService<WitnessingMetrics>();
    }

    private static IResult GetWitnessed(HttpResponse response, CheckpointWitnessing witnessing, LedgerService ledgers)
    {
        response.Headers.CacheControl = "no-cache";
        if (!witnessing.Enabled)
        {
            return Problems.NotFound("No witnesses are configured (AuditStream:Witnessing:Witnesses): checkpoints carry the server's signature only.");
        }

        if (witnessing.Cosigned.LatestWitnessed is { } note)
        {
            return Results.Text(note, "text/plain; charset=utf-8");
        }

        var where = ledgers.IsOpen && !ledgers.Ledger.IsLeader ? " This instance follows; the leader collects cosignatures." : "";
        return Problems.Unavailable($"No checkpoint has been cosigned by {witnessing.Cosigned.Quorum} witnesses yet (see /ready).{where}", 5);
    }
}
