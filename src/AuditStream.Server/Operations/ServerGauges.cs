using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AuditStream.Server.Operations;

/// <summary>
/// Server-level gauges (meter <see cref="MeterName"/>), evaluated on each scrape: the probes as metrics,
/// <c>audit_ready</c> (1 when <c>/ready</c> would answer 200) and <c>audit_health_check_status{check}</c> (1 healthy,
/// 0 not), so alert rules see readiness without kube-state-metrics; and the limit in force,
/// <c>audit_websocket_connections_max</c> (<c>AuditStream:Hub:MaxClients</c>).
/// </summary>
internal sealed class ServerGauges
{
    public const string MeterName = "AuditStream.Server";

    private readonly (string Name, SynchronousHealthCheck Check, bool Ready)[] _checks;

    public ServerGauges(IMeterFactory meterFactory, IServiceProvider services, AuditStream.Streaming.Hub.StreamHub hub, Hosting.LedgerService ledgers)
    {
        _checks = [.. HealthEndpoints.Checks.Select(c => (c.Name, (SynchronousHealthCheck)services.GetRequiredService(c.Type), c.Tags.Contains(HealthEndpoints.ReadyTag)))];
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("audit_health_check_status", ObserveChecks, description: "1 when the named health check passes, else 0.");
        meter.CreateObservableGauge("audit_ready", () => _checks.Where(c => c.Ready).All(c => c.Check.Check().Status != HealthStatus.Unhealthy) ? 1 : 0, description: "1 when /ready answers 200 (every check healthy or degraded), else 0.");
        meter.CreateObservableGauge("audit_cluster_leader", () => ledgers.IsOpen && ledgers.Ledger.IsLeader ? 1 : 0, description: "1 while this instance is the ledger's writer (always with SQLite), else 0.");
        meter.CreateObservableGauge("audit_cluster_term", () => ledgers.IsOpen ? ledgers.Ledger.Cluster?.Fence.Term ?? 0 : 0, description: "The leader term this instance commits under (0 while it follows, and with SQLite).");
        meter.CreateObservableGauge("audit_cluster_follower_lag_events", () => ledgers.IsOpen ? ledgers.Ledger.Cluster?.LagSeqs ?? 0 : 0, description: "Seqs committed to the shared ledger that this instance's feed has not reached yet.");
        meter.CreateObservableGauge("audit_cluster_follower_lag_seconds", () => ledgers.IsOpen ? ledgers.Ledger.Cluster?.LagTime.TotalSeconds ?? 0 : 0, unit: "s", description: "How long this instance's feed has been behind the shared ledger.");
        meter.CreateObservableCounter("audit_cluster_follower_carried_records_total", () => ledgers.IsOpen ? ledgers.Ledger.Cluster?.CarriedRecordsApplied ?? 0 : 0, description: "Records this instance's follower applied from the leader's announcements without reading the store.");
        meter.CreateObservableCounter("audit_cluster_follower_store_reads_total", () => ledgers.IsOpen ? ledgers.Ledger.Cluster?.StoreReads ?? 0 : 0, description: "Rounds in which this instance's follower read the shared store (a poll, or an announcement that carried no records or could not be applied).");
        meter.CreateObservableGauge("audit_websocket_connections_max", () => hub.Options.MaxClients, description: "Most stream clients admitted at once (AuditStream:Hub:MaxClients).");
    }

    private IEnumerable<Measurement<int>> ObserveChecks()
    {
        foreach (var (name, check, _) in _checks)
        {
            yield return new Measurement<int>(check.Check().Status == HealthStatus.Healthy ? 1 : 0, new KeyValuePair<string, object?>("check", name));
        }
    }
}
