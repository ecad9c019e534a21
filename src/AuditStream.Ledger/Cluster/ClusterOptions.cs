namespace AuditStream.Ledger.Cluster;

/// <summary>How this instance names itself among the instances that share one ledger (<c>AuditStream:Cluster</c>).</summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Cluster";

    /// <summary>
    /// This instance's id: it holds sink and alert leases under this name and <c>GET /api/v1/sinks</c> shows it as their
    /// owner. Must differ between instances running at the same time (a pod name does).
    /// </summary>
    /// <value>Default <c>{hostname}-{process id}</c>.</value>
    public string InstanceId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";
}
