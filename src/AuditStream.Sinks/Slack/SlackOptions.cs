using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Slack;

/// <summary>The Slack sink: Block Kit messages to incoming webhooks, routed by severity, category and type.</summary>
public sealed class SlackOptions : SinkOptions
{
    /// <summary>Creates the options with this sink's defaults: start at the end of the ledger (no history flood), one-second lingering.</summary>
    public SlackOptions()
    {
        StartAt = SinkStart.End;
        Linger = TimeSpan.FromSeconds(1);
        MaxBatchSize = 1000;
    }

    /// <summary>The sink's name (keys its position and dead letters).</summary>
    /// <value>Default <c>slack</c>.</value>
    [Required]
    public string Name { get; set; } = "slack";

    /// <summary>Incoming webhook URL (<c>SLACK_WEBHOOK_URL</c>). Treated as a secret: never logged.</summary>
    /// <value>Required when enabled.</value>
    public Uri? WebhookUrl { get; set; }

    /// <summary>Channel for security and compliance events (<c>SLACK_AUDIT_CHANNEL</c>), e.g. <c>#audit</c>.</summary>
    /// <value>Default none: the webhook's own channel.</value>
    public string? AuditChannel { get; set; }

    /// <summary>Channel for critical events (<c>SLACK_CRITICAL_CHANNEL</c>), e.g. <c>#incidents</c>.</summary>
    /// <value>Default none: the webhook's own channel.</value>
    public string? CriticalChannel { get; set; }

    /// <summary>
    /// Routing rules tried in order before the built-in ones (critical to <see cref="CriticalChannel"/>, then security and
    /// compliance to <see cref="AuditChannel"/>); the first that matches decides. Events no rule matches are not posted.
    /// </summary>
    /// <value>Default none.</value>
    public IList<SlackRoute> Routes { get; set; } = [];

    /// <summary>Least time between two messages to one webhook (Slack allows one per second).</summary>
    /// <value>Default 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MessageInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When more events of one type for one channel wait than this, the first is posted and the rest go into one digest
    /// message ("37 more auth.failure events in the last minute").
    /// </summary>
    /// <value>Default 3.</value>
    [Range(1, 1000)]
    public int DigestThreshold { get; set; } = 3;

    /// <summary>Public base URL of this AuditStream server, for the link back to an event (<c>{base}api/v1/events/{seq}</c>).</summary>
    /// <value>Default none: no link.</value>
    public Uri? EventLinkBase { get; set; }
}

/// <summary>A Slack routing rule: events matching every given list go to <see cref="Channel"/> (through <see cref="WebhookUrl"/> if set).</summary>
public sealed class SlackRoute
{
    /// <summary>Severities matched; empty matches any.</summary>
    public IList<string> Severities { get; set; } = [];

    /// <summary>Categories matched; empty matches any.</summary>
    public IList<string> Categories { get; set; } = [];

    /// <summary>Event types matched, exact or a prefix ending in <c>.*</c>; empty matches any.</summary>
    public IList<string> EventTypes { get; set; } = [];

    /// <summary>The channel to post in; empty for the webhook's own.</summary>
    public string? Channel { get; set; }

    /// <summary>A different incoming webhook for this route.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>When set, matching events are not posted at all.</summary>
    public bool Drop { get; set; }
}
