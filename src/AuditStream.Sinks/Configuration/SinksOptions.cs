using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Datadog;
using AuditStream.Sinks.Elasticsearch;
using AuditStream.Sinks.PagerDuty;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Slack;
using AuditStream.Sinks.Webhook;

namespace AuditStream.Sinks.Configuration;

/// <summary>Every sink and the alert rules (<c>AuditStream:Sinks</c>); see docs/sinks.md.</summary>
public sealed class SinksOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Sinks";

    /// <summary>Elasticsearch / OpenSearch (<c>ELASTICSEARCH_*</c>).</summary>
    public ElasticsearchOptions Elasticsearch { get; set; } = new();

    /// <summary>Datadog Logs (<c>DATADOG_*</c>).</summary>
    public DatadogOptions Datadog { get; set; } = new();

    /// <summary>Slack (<c>SLACK_*</c>).</summary>
    public SlackOptions Slack { get; set; } = new();

    /// <summary>PagerDuty (<c>PAGERDUTY_*</c>).</summary>
    public PagerDutyOptions PagerDuty { get; set; } = new();

    /// <summary>Any number of webhooks.</summary>
    public IList<WebhookOptions> Webhooks { get; set; } = [];

    /// <summary>
    /// How long an instance's lease on a sink (or on the alert evaluator) lasts unless renewed; it is renewed every third
    /// of it. When the instance running a sink dies, another takes the sink over within about this time, so it bounds
    /// the pause in delivery; a shorter time costs more renewals (one small UPDATE per sink per third). Only matters on
    /// PostgreSQL: on SQLite the one instance runs everything.
    /// </summary>
    /// <value>Default 10 seconds; between 1 second and 10 minutes.</value>
    public TimeSpan LeaseDuration { get; set; } = LeaseHolder.DefaultDuration;

    /// <summary>Alert rules.</summary>
    public AlertOptions Alerts { get; set; } = new();

    /// <summary>Problems found while reading the legacy environment variables, reported by validation.</summary>
    internal List<string> EnvironmentErrors { get; } = [];
}
