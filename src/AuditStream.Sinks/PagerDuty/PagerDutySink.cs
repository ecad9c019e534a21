using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.PagerDuty;

/// <summary>
/// Sends PagerDuty Events API v2 events, one request each: <c>alert.raised</c> triggers and <c>alert.resolved</c>
/// resolves the incident keyed by the alert's rule, tenant and group (<see cref="AlertInfo.DedupKey"/>, so a retry never
/// opens a second incident and a resolution closes the incident its alert opened); events of a paging severity trigger with the event id as <c>dedup_key</c>. Other events are skipped.
/// </summary>
public sealed class PagerDutySink : HttpSink
{
    private const int MaxSummaryLength = 1024;
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly PagerDutyOptions _options;

    /// <summary>Creates the sink over <paramref name="client"/>.</summary>
    public PagerDutySink(PagerDutyOptions options, HttpClient client, TimeProvider time)
        : base(options?.Name ?? "", "pagerduty", client, options?.Resilience ?? new(), time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.RoutingKey))
        {
            throw new ArgumentException("AuditStream:Sinks:PagerDuty:RoutingKey (PAGERDUTY_ROUTING_KEY) is required.", nameof(options));
        }

        _options = options;
    }

    /// <inheritdoc />
    public override Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var messages = batch.Records.Select(r => (r.Seq, Body: Body(r))).Where(static m => m.Body is not null).ToList();
        return DeliverInTurnAsync(messages, static m => [m.Seq], m => Request(m.Body!), before: null, after: null, cancellationToken);
    }

    /// <summary>PagerDuty severity for an event severity.</summary>
    public static string Severity(string? severity) => severity switch
    {
        "critical" => "critical",
        "error" => "error",
        "warning" => "warning",
        _ => "info",
    };

    /// <summary>The Events API v2 body for <paramref name="record"/>, or null when it does not page.</summary>
    internal byte[]? Body(LedgerRecord record)
    {
        var e = record.Event;
        var alert = AlertInfo.Read(e);
        if (alert is null && !_options.PageSeverities.Contains(e.Severity ?? ""))
        {
            return null;
        }

        var resolve = e.Type == AlertInfo.ResolvedType;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("routing_key", _options.RoutingKey);
            w.WriteString("event_action", resolve ? "resolve" : "trigger");
            w.WriteString("dedup_key", alert?.DedupKey(e.TenantId) ?? "auditstream/event/" + e.Id);
            if (!resolve)
            {
                var summary = alert?.Summary is { Length: > 0 } text ? text : $"[{e.Severity}] {e.Type}: {e.ActorId} {e.Action} {e.TargetType} {e.TargetId} ({e.Outcome})";
                w.WriteStartObject("payload");
                w.WriteString("summary", summary.Length > MaxSummaryLength ? summary[..MaxSummaryLength] : summary);
                w.WriteString("source", e.Source?.Service ?? _options.Source);
                w.WriteString("severity", Severity(e.Severity));
                w.WriteString("timestamp", record.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                if (e.TargetType is not null)
                {
                    w.WriteString("component", e.TargetType);
                }

                if (e.TenantId is not null)
                {
                    w.WriteString("group", e.TenantId);
                }

                w.WriteString("class", e.Category is null ? e.Type : $"{e.Category}/{e.Type}");
                w.WritePropertyName("custom_details");
                SinkJson.WriteEvent(w, record, _options.IncludePii, SubjectKeys);
                w.WriteEndObject();
                if (_options.EventLinkBase is { } linkBase)
                {
                    w.WriteStartArray("links");
                    Link(w, new Uri(linkBase, string.Create(CultureInfo.InvariantCulture, $"api/v1/events/{record.Seq}")), "Event in AuditStream");
                    foreach (var related in alert?.RelatedSeqs.Take(5) ?? [])
                    {
                        Link(w, new Uri(linkBase, string.Create(CultureInfo.InvariantCulture, $"api/v1/events/{related}")), string.Create(CultureInfo.InvariantCulture, $"Related event {related}"));
                    }

                    w.WriteEndArray();
                    w.WriteString("client_url", linkBase.ToString());
                }

                w.WriteString("client", "AuditStream");
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Link(Utf8JsonWriter w, Uri href, string text)
    {
        w.WriteStartObject();
        w.WriteString("href", href.ToString());
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private HttpRequestMessage Request(byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.EventsUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = s_json;
        return request;
    }
}
