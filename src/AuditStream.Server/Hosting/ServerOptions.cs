using System.ComponentModel.DataAnnotations;

namespace AuditStream.Server.Hosting;

/// <summary>Limits of the HTTP API.</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Server";

    /// <summary>Most events in one ingest request.</summary>
    /// <value>Default 1,000 events.</value>
    [Range(1, 100_000)]
    public int MaxEventsPerRequest { get; set; } = 1_000;

    /// <summary>Largest ingest request body.</summary>
    /// <value>Default 4 MiB (4,194,304 bytes).</value>
    [Range(1_024, 256 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Page size of <c>GET /api/v1/events</c> when <c>limit</c> is absent.</summary>
    /// <value>Default 100 events.</value>
    [Range(1, 10_000)]
    public int DefaultPageSize { get; set; } = 100;

    /// <summary>Largest <c>limit</c> accepted by <c>GET /api/v1/events</c>.</summary>
    /// <value>Default 1,000 events.</value>
    [Range(1, 100_000)]
    public int MaxPageSize { get; set; } = 1_000;

    /// <summary>Seconds a client is told to wait (<c>Retry-After</c>) when the ledger queue is full.</summary>
    /// <value>Default 1 second.</value>
    [Range(1, 3_600)]
    public int RetryAfterSeconds { get; set; } = 1;
}
