using System.ComponentModel.DataAnnotations;

namespace AuditStream.Server.Operations;

/// <summary>What operators tune: metrics, health probes and shutdown, bound from <c>AuditStream:Operations</c>.</summary>
public sealed class OperationsOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Operations";

    /// <summary>Whether Prometheus text is served at <see cref="MetricsPath"/> (the instruments count either way; the debug endpoints read them).</summary>
    /// <value>Default <c>true</c>.</value>
    public bool MetricsEnabled { get; set; } = true;

    /// <summary>Path of the Prometheus scrape endpoint (unauthenticated: expose it to the cluster, not the internet).</summary>
    /// <value>Default <c>/metrics</c>.</value>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*$", ErrorMessage = "must be a path starting with '/'")]
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>Window over which <c>/debug/websocket/audit/stats</c> computes rates (DESIGN.md §6 MetricsInterval).</summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be between 00:00:01 and 01:00:00")]
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A ledger commit running longer than this makes <c>/ready</c> fail (<c>ledger_writer</c>: stalled).</summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "must be between 00:00:00.010 and 01:00:00")]
    public TimeSpan WriterStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a failed commit <c>/ready</c> fails (<c>ledger_writable</c>) until a commit succeeds or this long has
    /// passed; then the file checks alone decide, so a pod taken out of traffic by the failure can come back.
    /// </summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "must be between 00:00:00.010 and 01:00:00")]
    public TimeSpan CommitFailureWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long <c>/ready</c> waits for the shared ledger's store (PostgreSQL) to answer its probe (<c>ledger_store</c>)
    /// before it counts the store as unreachable.
    /// </summary>
    /// <value>Default 2 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "must be between 00:00:00.010 and 00:01:00")]
    public TimeSpan StoreProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the answer of the store probe (<c>ledger_store</c>) is reused, so that frequent <c>/ready</c> requests
    /// and metric scrapes cost PostgreSQL at most one query per interval per instance.
    /// </summary>
    /// <value>Default 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "must be between 00:00:00 and 00:01:00")]
    public TimeSpan StoreProbeCacheTime { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest a graceful stop (SIGTERM) may take: stream clients are closed with 1001, in-flight requests finish, the
    /// writer commits what it acknowledged and a final checkpoint is signed. Keep it below the pod's termination grace period.
    /// </summary>
    /// <value>Default 25 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "must be between 00:00:01 and 00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(25);
}
