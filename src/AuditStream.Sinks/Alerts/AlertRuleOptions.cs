using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// One alert rule: events its <see cref="Filter"/> accepts are counted per tenant and per value of <see cref="GroupBy"/>
/// over a sliding <see cref="Window"/> of commit time; when a group reaches <see cref="Threshold"/>, an <c>alert.raised</c>
/// event is appended to the ledger. With <see cref="AutoResolve"/> the alert stays open while the group keeps reaching the
/// threshold and an <c>alert.resolved</c> follows one full window after it last did; without, the group starts counting again.
/// </summary>
public sealed class AlertRuleOptions
{
    /// <summary>The rule's name, in <c>metadata.alert.rule</c> and in alert ids.</summary>
    /// <value>Required.</value>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9_.-]{0,63}$", ErrorMessage = "Name must be 1-64 lower-case letters, digits, '_', '.' or '-'.")]
    public string Name { get; set; } = "";

    /// <summary>The alert's kind, which is the alert event's <c>category</c>: <c>security</c>, <c>compliance</c> or <c>system</c>.</summary>
    /// <value>Default <c>security</c>.</value>
    [Required]
    [RegularExpression("^(security|compliance|system)$", ErrorMessage = "Kind must be security, compliance or system.")]
    public string Kind { get; set; } = "security";

    /// <summary>The alert event's <c>severity</c>: <c>critical</c>, <c>error</c>, <c>warning</c> or <c>info</c>.</summary>
    /// <value>Default <c>error</c>.</value>
    [Required]
    [RegularExpression("^(critical|error|warning|info)$", ErrorMessage = "Severity must be critical, error, warning or info.")]
    public string Severity { get; set; } = "error";

    /// <summary>Which events count (the stream filter of DESIGN.md §5; <c>time_range</c> is not allowed).</summary>
    /// <value>Default: every event.</value>
    public SinkFilter? Filter { get; set; }

    /// <summary>How many matching events of one group within <see cref="Window"/> fire the alert.</summary>
    /// <value>Default 1: every matching event fires.</value>
    [Range(1, 100_000)]
    public int Threshold { get; set; } = 1;

    /// <summary>The sliding window, over the events' commit times.</summary>
    /// <value>Default 60 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The field events are grouped by: <c>actor_id</c>, <c>target_id</c>, <c>type</c>, <c>source.ip</c>, <c>source.service</c>,
    /// <c>metadata.&lt;path&gt;</c>… Events without the field form the group <c>""</c>.
    /// </summary>
    /// <value>Default none: one group per tenant.</value>
    public string? GroupBy { get; set; }

    /// <summary>
    /// Whether a fired alert stays open and is resolved: while open, further matches of its group raise nothing new; once a
    /// full <see cref="Window"/> has passed in which the group did not reach <see cref="Threshold"/> again, an
    /// <c>alert.resolved</c> is appended. When false every time the group reaches the threshold fires a new alert, and
    /// none is ever resolved (a human closes the incident).
    /// </summary>
    /// <value>Default: true when <see cref="Threshold"/> is above 1 (a rate that can end), false for single-event rules.</value>
    public bool? AutoResolve { get; set; }

    /// <summary><see cref="AutoResolve"/> with its default applied.</summary>
    internal bool Resolves => AutoResolve ?? Threshold > 1;
}

/// <summary>Alert rules (<c>AuditStream:Sinks:Alerts</c>).</summary>
public sealed class AlertOptions
{
    /// <summary>Whether rules are evaluated.</summary>
    /// <value>Default <c>true</c> (nothing happens without rules).</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Where evaluation starts the first time: <c>End</c> (default; no alerts for history) or <c>Beginning</c>.</summary>
    public SinkStart StartAt { get; set; } = SinkStart.End;

    /// <summary>The rules.</summary>
    /// <value>Default none.</value>
    public IList<AlertRuleOptions> Rules { get; set; } = [];

    /// <summary>The built-in system alert on a sink that falls behind.</summary>
    public SinkLagOptions SinkLag { get; set; } = new();
}
