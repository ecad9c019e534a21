using System.ComponentModel.DataAnnotations;

namespace AuditStream.Server.Hosting.RateLimits;

/// <summary>
/// Layered request limits (token buckets, per instance): per remote address, per token subject and per tenant, for each
/// kind of request — ingest, reads and stream connection attempts. A limit with <c>Limit</c> 0 is off (the default).
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:RateLimits";

    /// <summary><c>POST /api/v1/events</c>.</summary>
    public RateLimitLayers Ingest { get; set; } = new();

    /// <summary>Every other <c>/api/v1</c> request except the stream.</summary>
    public RateLimitLayers Reads { get; set; } = new();

    /// <summary>Connection attempts on <c>/ws/audit</c> and <c>/api/v1/stream</c>, refused before any upgrade.</summary>
    public RateLimitLayers Connections { get; set; } = new();
}

/// <summary>The three layers of one kind of request; a request must pass all that are on.</summary>
public sealed class RateLimitLayers
{
    /// <summary>Per token subject (within its tenant).</summary>
    public RateLimit PerSubject { get; set; } = new();

    /// <summary>Per tenant (all tokens of a tenant together; tokens for every tenant share one bucket).</summary>
    public RateLimit PerTenant { get; set; } = new();

    /// <summary>Per remote address (IPv4 address or IPv6 /64), authenticated or not.</summary>
    public RateLimit PerAddress { get; set; } = new();
}

/// <summary>A token bucket: at most <see cref="Limit"/> requests at once, refilled by <see cref="Limit"/> every <see cref="Period"/>.</summary>
public sealed class RateLimit
{
    /// <summary>Requests per period (and the burst); 0 turns the limit off.</summary>
    [Range(0, 10_000_000)]
    public int Limit { get; set; }

    /// <summary>The refill period.</summary>
    /// <value>Default 1 second.</value>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);
}
