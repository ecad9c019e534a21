using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Webhook;

/// <summary>
/// POSTs each batch as <c>{"type":"audit.events","delivery_id":…,"events":[…]}</c> to a URL, with the delivery id in
/// <c>webhook-id</c> (the same on retries, so the receiver can drop a duplicate), the attempt's time in
/// <c>webhook-timestamp</c> and HMAC-SHA256 signatures in <c>webhook-signature</c>.
/// </summary>
public sealed class WebhookSink : HttpSink
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json") { CharSet = "utf-8" };

    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the sink over <paramref name="client"/>.</summary>
    public WebhookSink(WebhookOptions options, HttpClient client, TimeProvider time)
        : base(options?.Name ?? "", "webhook", client, options?.Resilience ?? new(), time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _time = time;
    }

    /// <inheritdoc />
    public override async Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var body = Body(batch);
        return await Http.DeliverAsync(() => Request(batch.DeliveryId, body), cancellationToken).ConfigureAwait(false);
    }

    private byte[] Body(SinkBatch batch)
    {
        var buffer = new ArrayBufferWriter<byte>(batch.Records.Count * 512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "audit.events");
            writer.WriteString("delivery_id", batch.DeliveryId);
            writer.WriteStartArray("events");
            foreach (var record in batch.Records)
            {
                SinkJson.WriteEvent(writer, record, _options.IncludePii, SubjectKeys);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private HttpRequestMessage Request(string deliveryId, byte[] body)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = s_json;
        request.Headers.Add(WebhookSignature.IdHeader, deliveryId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        if (_options.Secrets.Count > 0)
        {
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(_options.Secrets, deliveryId, timestamp, body));
        }

        return request;
    }
}
