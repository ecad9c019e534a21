using System.ComponentModel.DataAnnotations;

namespace AuditStream.Sinks.Runtime;

/// <summary>Where a new sink (one with no saved position) starts reading the ledger.</summary>
public enum SinkStart
{
    /// <summary>From seq 1: the receiver gets the whole history.</summary>
    Beginning,

    /// <summary>From the current end: only events committed after the sink first started.</summary>
    End,
}

/// <summary>What every sink has: whether it runs, which events it takes, how it batches and how it retries.</summary>
public abstract class SinkOptions
{
    /// <summary>Whether the sink runs.</summary>
    /// <value>Default <c>false</c>.</value>
    public bool Enabled { get; set; }

    /// <summary>Which events the sink forwards (the stream filter of DESIGN.md §5; <c>time_range</c> is not allowed).</summary>
    /// <value>Default: every event.</value>
    public SinkFilter? Filter { get; set; }

    /// <summary>Most events in one request.</summary>
    /// <value>Default 500 events.</value>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>How long a batch that is not full waits for more events before it is sent.</summary>
    /// <value>Default 200 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Where a sink with no saved position starts.</summary>
    /// <value>Default <see cref="SinkStart.Beginning"/>.</value>
    public SinkStart StartAt { get; set; } = SinkStart.Beginning;

    /// <summary>Whether <c>pii</c> is forwarded as stored; otherwise it is replaced by <c>"[masked]"</c>.</summary>
    /// <value>Default <c>false</c>.</value>
    public bool IncludePii { get; set; }

    /// <summary>Timeouts, retries and circuit breaker.</summary>
    [Required]
    public SinkResilienceOptions Resilience { get; set; } = new();
}
