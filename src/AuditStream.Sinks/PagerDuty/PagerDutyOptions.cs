using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.PagerDuty;

/// <summary>The PagerDuty sink: Events API v2 <c>trigger</c>/<c>resolve</c> for alerts and critical events.</summary>
public sealed class PagerDutyOptions : SinkOptions
{
    /// <summary>Creates the options with this sink's defaults: start at the end of the ledger (never page for history).</summary>
    public PagerDutyOptions()
    {
        StartAt = SinkStart.End;
        MaxBatchSize = 20;
    }

    /// <summary>The sink's name (keys its position and dead letters).</summary>
    /// <value>Default <c>pagerduty</c>.</value>
    [Required]
    public string Name { get; set; } = "pagerduty";

    /// <summary>Integration (routing) key of the PagerDuty service (<c>PAGERDUTY_ROUTING_KEY</c>). Never logged.</summary>
    /// <value>Required when enabled.</value>
    public string? RoutingKey { get; set; }

    /// <summary>Events API endpoint (<c>PAGERDUTY_EVENTS_URL</c>), for a proxy, the EU service region or a test.</summary>
    /// <value>Default <c>https://events.pagerduty.com/v2/enqueue</c>.</value>
    [Required]
    public Uri EventsUrl { get; set; } = new("https://events.pagerduty.com/v2/enqueue");

    /// <summary>Severities of ordinary (non-alert) events that page; alert events always do.</summary>
    /// <value>Default <c>critical</c>.</value>
    public IList<string> PageSeverities { get; set; } = ["critical"];

    /// <summary><c>payload.source</c> when the event has no <c>source.service</c>.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    [Required]
    public string Source { get; set; } = "auditstream";

    /// <summary>Public base URL of this AuditStream server, for the link back to an event (<c>{base}api/v1/events/{seq}</c>).</summary>
    /// <value>Default none: no link.</value>
    public Uri? EventLinkBase { get; set; }
}
