using System.ComponentModel.DataAnnotations;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// How a sink rides out a failing receiver: each request has an attempt timeout and a few quick retries (exponential
/// backoff with jitter, or the receiver's <c>Retry-After</c>) behind a circuit breaker; after that the runner keeps the
/// batch and tries again with the same backoff, never skipping it.
/// </summary>
public sealed class SinkResilienceOptions
{
    /// <summary>Time allowed for one HTTP attempt.</summary>
    /// <value>Default 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of one request inside the resilience pipeline before the runner takes over.</summary>
    /// <value>Default 3.</value>
    [Range(1, 100)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First retry delay; each further retry doubles it, with jitter.</summary>
    /// <value>Default 500 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay between attempts, also while a receiver stays down.</summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest <c>Retry-After</c> honoured; a longer one is cut to this.</summary>
    /// <value>Default 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Share of failed attempts within <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    /// <value>Default 0.5.</value>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Fewest attempts within the sampling duration before the breaker may open.</summary>
    /// <value>Default 10.</value>
    [Range(2, int.MaxValue)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    /// <summary>Window over which the failure ratio is measured.</summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.5", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open before one trial request.</summary>
    /// <value>Default 15 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.5", "01:00:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
