using AuditStream.Server.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditStream.Server.Operations;

/// <summary>
/// <c>ledger_cluster</c> (readiness): this instance's role in the shared ledger, for the <c>/ready</c> detail. A follower
/// is ready (it serves reads and streams and forwards appends); the detail says whose term it follows and how far behind it is.
/// </summary>
internal sealed class ClusterHealthCheck(LedgerService ledgers) : SynchronousHealthCheck
{
    public override HealthCheckResult Check()
    {
        if (!ledgers.IsOpen)
        {
            return HealthCheckResult.Unhealthy("the ledger is not open");
        }

        if (ledgers.Ledger.Cluster is not { } cluster)
        {
            return HealthCheckResult.Healthy("role leader: the only instance of a SQLite ledger");
        }

        var term = cluster.Fence.Term;
        return cluster.IsLeader
            ? HealthCheckResult.Healthy($"role leader, term {term}, instance {cluster.InstanceId}")
            : HealthCheckResult.Healthy($"role follower, instance {cluster.InstanceId}, {cluster.LagSeqs} seqs behind the shared ledger ({cluster.LagTime.TotalSeconds:F1} s)");
    }
}
