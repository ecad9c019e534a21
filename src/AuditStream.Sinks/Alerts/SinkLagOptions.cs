using System.ComponentModel.DataAnnotations;

namespace AuditStream.Sinks.Alerts;

/// <summary>The built-in system alert on a sink that falls behind (<c>AuditStream:Sinks:Alerts:SinkLag</c>).</summary>
public sealed class SinkLagOptions
{
    /// <summary>Whether sink lag raises alerts.</summary>
    /// <value>Default <c>true</c>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>A sink whose oldest unhandled event is older than this raises <c>alert.raised</c> (kind <c>system</c>); <c>alert.resolved</c> follows when it is back under.</summary>
    /// <value>Default 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the lag is checked.</summary>
    /// <value>Default 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The alert's severity.</summary>
    /// <value>Default <c>error</c>.</value>
    [Required]
    [RegularExpression("^(critical|error|warning|info)$", ErrorMessage = "Severity must be critical, error, warning or info.")]
    public string Severity { get; set; } = "error";
}
