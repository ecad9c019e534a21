using AuditStream.Ledger.Cluster;
using AuditStream.Server.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// <c>backplane</c> (readiness): whether the Redis backplane (<c>AuditStream:Backplane:Redis</c>) is connected. While it
/// is not, the check is <em>degraded</em>, not unhealthy: <c>/ready</c> still answers 200, because followers find every
/// commit by polling the shared ledger (<see cref="ClusterOptions.FollowerPollInterval"/>); delivery is only slower.
/// </summary>
internal sealed class BackplaneHealthCheck(IServiceProvider services, IOptions<ClusterOptions> cluster) : SynchronousHealthCheck
{
    public override HealthCheckResult Check()
    {
        if (services.GetService<BackplaneSignal>() is not { } backplane)
        {
            return HealthCheckResult.Healthy("no Redis backplane configured (AuditStream:Backplane:Redis); a shared ledger wakes followers with PostgreSQL LISTEN/NOTIFY");
        }

        if (backplane.Current is not { } signal)
        {
            return HealthCheckResult.Healthy("Redis backplane configured, not in use yet (made on first use)");
        }

        return signal.IsConnected
            ? HealthCheckResult.Healthy("Redis backplane connected")
            : HealthCheckResult.Degraded(
                "Redis backplane unreachable: commits are not announced; followers find them by polling the shared ledger every " +
                $"{cluster.Value.FollowerPollInterval.TotalSeconds:0.###} s ({ClusterOptions.SectionName}:FollowerPollInterval), so delivery is slower and nothing is lost");
    }
}
