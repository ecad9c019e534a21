using System.Buffers;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Datadog;

/// <summary>
/// Sends events to Datadog Logs (intake v2): a gzip JSON array of at most 1,000 entries and 5 MB before compression, each
/// with <c>ddsource</c>, <c>service</c>, <c>hostname</c>, <c>status</c> from the severity, <c>ddtags</c> (tenant, category,
/// severity, type, compliance tags) and the event under <c>audit</c>; an <c>alert.resolved</c> has status <c>ok</c>.
/// Datadog has no idempotency key, so a batch sent again after an unanswered attempt may show up twice there; each entry
/// carries <c>audit.id</c> to spot and drop that (a 2xx is final and never sent again).
/// </summary>
public sealed class DatadogSink : HttpSink
{
    /// <summary>Datadog's documented maximum payload before compression.</summary>
    public const int MaxPayloadBytes = 5 * 1024 * 1024;

    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly DatadogOptions _options;
    private readonly string _hostname;

    /// <summary>Creates the sink over <paramref name="client"/>.</summary>
    public DatadogSink(DatadogOptions options, HttpClient client, TimeProvider time)
        : base(options?.Name ?? "", "datadog", client, options?.Resilience ?? new(), time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new ArgumentException("AuditStream:Sinks:Datadog:ApiKey (DATADOG_API_KEY) is required.", nameof(options));
        }

        _options = options;
        _hostname = string.IsNullOrEmpty(options.Hostname) ? Environment.MachineName : options.Hostname;
    }

    /// <inheritdoc />
    public override async Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Records.Count > DatadogOptions.MaxEntriesPerRequest)
        {
            return SinkDelivery.Rejected($"more than {DatadogOptions.MaxEntriesPerRequest} entries in one request");
        }

        var json = Body(batch);
        if (json.Length > MaxPayloadBytes)
        {
            // The runner splits the batch until it fits; a single event this large is dead-lettered.
            return SinkDelivery.Rejected($"payload of {json.Length} bytes exceeds Datadog's {MaxPayloadBytes}-byte limit");
        }

        var gzip = Compress(json);
        return await Http.DeliverAsync(() => Request(gzip), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Datadog log status for an event severity.</summary>
    public static string Status(string? severity) => severity switch
    {
        "critical" => "critical",
        "error" => "error",
        "warning" => "warn",
        _ => "info",
    };

    private HttpRequestMessage Request(byte[] gzip)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint) { Content = new ByteArrayContent(gzip) };
        request.Content.Headers.ContentType = s_json;
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Add("DD-API-KEY", _options.ApiKey);
        return request;
    }

    private byte[] Body(SinkBatch batch)
    {
        var buffer = new ArrayBufferWriter<byte>(batch.Records.Count * 700);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var record in batch.Records)
            {
                var e = record.Event;
                writer.WriteStartObject();
                writer.WriteString("ddsource", _options.Source);
                writer.WriteString("ddtags", Tags(e));
                writer.WriteString("hostname", _hostname);
                writer.WriteString("service", _options.Service);
                writer.WriteString("status", e.Type == AlertInfo.ResolvedType ? "ok" : Status(e.Severity));
                writer.WriteString("message", Message(e));
                writer.WritePropertyName("audit");
                SinkJson.WriteEvent(writer, record, _options.IncludePii, SubjectKeys);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private string Tags(AuditEvent e)
    {
        var tags = new StringBuilder();
        Add(tags, "tenant", e.TenantId);
        Add(tags, "category", e.Category);
        Add(tags, "severity", e.Severity);
        Add(tags, "event_type", e.Type);
        foreach (var tag in e.Compliance ?? [])
        {
            Add(tags, "compliance", tag);
        }

        foreach (var tag in _options.Tags)
        {
            tags.Append(tags.Length == 0 ? "" : ",").Append(tag);
        }

        return tags.ToString();
    }

    private static void Add(StringBuilder tags, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            tags.Append(tags.Length == 0 ? "" : ",").Append(key).Append(':').Append(value);
        }
    }

    /// <summary>"auth.failure: user-1 read customer_record record-3 (failure)".</summary>
    internal static string Message(AuditEvent e) =>
        $"{e.Type}: {e.ActorId ?? "?"} {e.Action ?? "acted on"} {e.TargetType} {e.TargetId}".TrimEnd() + (e.Outcome is { } outcome ? $" ({outcome})" : "");

    private static byte[] Compress(byte[] json)
    {
        using var output = new MemoryStream(json.Length / 4);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(json);
        }

        return output.ToArray();
    }
}
