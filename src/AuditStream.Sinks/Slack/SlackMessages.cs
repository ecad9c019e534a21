using System.Buffers;
using System.Globalization;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Sinks.Slack;

/// <summary>Block Kit payloads for incoming webhooks: one event (who, what, target, severity, link) or a digest of many.</summary>
internal static class SlackMessages
{
    public static byte[] Event(LedgerRecord record, string? channel, Uri? linkBase)
    {
        var e = record.Event;
        var alert = AlertSummary(e);
        var title = $"{(e.Type == Alerts.AlertInfo.ResolvedType ? ":white_check_mark:" : Icon(e.Severity))} {e.Severity?.ToUpperInvariant()} · {e.Type}";
        return Write(w =>
        {
            Channel(w, channel);
            w.WriteString("text", Fallback(e, alert));
            w.WriteStartArray("blocks");
            Header(w, title);
            if (alert is not null)
            {
                Section(w, Escape(alert));
            }

            w.WriteStartObject();
            w.WriteString("type", "section");
            w.WriteStartArray("fields");
            Field(w, "Who", $"{e.ActorId} ({e.ActorType})");
            Field(w, "What", $"{e.Action} · {e.Outcome}");
            Field(w, "Target", $"{e.TargetType} {e.TargetId}");
            Field(w, "Severity", e.Severity);
            Field(w, "Category", e.Category);
            Field(w, "Tenant", e.TenantId);
            w.WriteEndArray();
            w.WriteEndObject();
            Context(w, record.Seq, record.Seq, record.Timestamp, linkBase);
            w.WriteEndArray();
        });
    }

    public static byte[] Digest(IReadOnlyList<LedgerRecord> records, string? channel, Uri? linkBase)
    {
        var first = records[0];
        var last = records[^1];
        var type = first.Event.Type;
        var text = string.Create(CultureInfo.InvariantCulture, $"{records.Count} more {type} events {Window(last.Timestamp - first.Timestamp)}");
        var severities = string.Join(", ", records.Select(r => r.Event.Severity).Distinct());
        var actors = records.Select(r => r.Event.ActorId).Distinct().Take(5).ToList();
        return Write(w =>
        {
            Channel(w, channel);
            w.WriteString("text", text);
            w.WriteStartArray("blocks");
            Section(w, string.Create(CultureInfo.InvariantCulture, $"*{records.Count} more* `{Escape(type)}` events {Window(last.Timestamp - first.Timestamp)} ({Escape(severities)})\nactors: {Escape(string.Join(", ", actors))}{(actors.Count < records.Select(r => r.Event.ActorId).Distinct().Count() ? ", …" : "")}"));
            Context(w, first.Seq, last.Seq, last.Timestamp, linkBase);
            w.WriteEndArray();
        });
    }

    /// <summary>"in the last minute", "in the last 7 minutes".</summary>
    public static string Window(TimeSpan span)
    {
        var minutes = (int)Math.Ceiling(span.TotalMinutes);
        return minutes <= 1 ? "in the last minute" : string.Create(CultureInfo.InvariantCulture, $"in the last {minutes} minutes");
    }

    private static string? AlertSummary(AuditEvent e) => Alerts.AlertInfo.Read(e)?.Summary;

    private static string Fallback(AuditEvent e, string? alert) =>
        alert ?? $"[{e.Severity}] {e.Type}: {e.ActorId} {e.Action} {e.TargetType} {e.TargetId} ({e.Outcome})";

    private static string Icon(string? severity) => severity switch
    {
        "critical" => ":rotating_light:",
        "error" => ":red_circle:",
        "warning" => ":warning:",
        _ => ":information_source:",
    };

    private static void Channel(Utf8JsonWriter w, string? channel)
    {
        if (!string.IsNullOrEmpty(channel))
        {
            w.WriteString("channel", channel);
        }
    }

    private static void Header(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "header");
        w.WriteStartObject("text");
        w.WriteString("type", "plain_text");
        w.WriteString("text", text.Length > 150 ? text[..150] : text);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Section(Utf8JsonWriter w, string markdown)
    {
        w.WriteStartObject();
        w.WriteString("type", "section");
        w.WriteStartObject("text");
        w.WriteString("type", "mrkdwn");
        w.WriteString("text", markdown.Length > 3000 ? markdown[..3000] : markdown);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Field(Utf8JsonWriter w, string name, string? value)
    {
        w.WriteStartObject();
        w.WriteString("type", "mrkdwn");
        w.WriteString("text", $"*{name}*\n{Escape(string.IsNullOrWhiteSpace(value) ? "–" : value)}");
        w.WriteEndObject();
    }

    private static void Context(Utf8JsonWriter w, long fromSeq, long toSeq, DateTimeOffset at, Uri? linkBase)
    {
        var seqs = fromSeq == toSeq
            ? string.Create(CultureInfo.InvariantCulture, $"seq {fromSeq}")
            : string.Create(CultureInfo.InvariantCulture, $"seq {fromSeq}–{toSeq}");
        var text = $"{seqs} · {at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
        if (linkBase is not null)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" · <{new Uri(linkBase, $"api/v1/events/{fromSeq}")}|view in AuditStream>");
        }

        w.WriteStartObject();
        w.WriteString("type", "context");
        w.WriteStartArray("elements");
        w.WriteStartObject();
        w.WriteString("type", "mrkdwn");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Slack's mrkdwn escaping: &amp;, &lt; and &gt;.</summary>
    private static string Escape(string? text) =>
        (text ?? "").Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
