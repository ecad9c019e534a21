using System.Globalization;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// <c>ledger_witnessing</c> (readiness detail): each witness's cosigned size and last error. Never unhealthy: a witness
/// that is down or refuses must not take the server out of traffic (ingest does not depend on it), so problems show as
/// <c>degraded</c> (still 200) and a split view is spelled out first; alerting uses <c>audit_witness_split_view</c>.
/// </summary>
internal sealed class WitnessingHealthCheck(CheckpointWitnessing witnessing, LedgerService ledgers) : SynchronousHealthCheck
{
    public override HealthCheckResult Check()
    {
        if (!witnessing.Enabled)
        {
            return HealthCheckResult.Healthy("no witnesses configured");
        }

        if (ledgers.IsOpen && !ledgers.Ledger.IsLeader)
        {
            return HealthCheckResult.Healthy("follower: the leader submits checkpoints to the witnesses");
        }

        var statuses = witnessing.Statuses;
        var latest = witnessing.LatestSize;
        var parts = new List<string>();
        var split = statuses.Where(s => s.SplitView is not null).ToList();
        foreach (var status in split)
        {
            parts.Add($"SPLIT VIEW reported by witness {status.Name}: {status.SplitView}");
        }

        foreach (var status in statuses)
        {
            var lag = Math.Max(0, latest - status.CosignedSize);
            parts.Add(status.LastError is { } error
                ? string.Create(CultureInfo.InvariantCulture, $"witness {status.Name}: failing ({status.ConsecutiveFailures} in a row, cosigned size {status.CosignedSize}, {lag} events behind): {error}")
                : string.Create(CultureInfo.InvariantCulture, $"witness {status.Name}: ok (cosigned size {status.CosignedSize}, {lag} events behind)"));
        }

        var quorum = witnessing.Cosigned.Quorum;
        var witnessed = witnessing.Cosigned.WitnessedSize;
        parts.Insert(0, string.Create(CultureInfo.InvariantCulture, $"{quorum} of {statuses.Count} witnesses required; latest witnessed size {witnessed} of {latest}"));
        var description = string.Join("; ", parts);
        return split.Count > 0 || statuses.Any(s => s.LastError is not null)
            ? HealthCheckResult.Degraded(description)
            : HealthCheckResult.Healthy(description);
    }
}
