using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Elasticsearch;

/// <summary>
/// Indexes events with <c>_bulk</c>: one <c>index</c> action per event with the event id as <c>_id</c> (a retry overwrites
/// the same document instead of adding one), into the index its commit date selects. Per-item results: items failing with
/// 429 or 5xx are sent again, the others that failed are dead-lettered with Elasticsearch's error type and reason.
/// </summary>
public sealed class ElasticsearchSink : HttpSink
{
    private static readonly MediaTypeHeaderValue s_ndjson = new("application/x-ndjson");
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private readonly ElasticsearchOptions _options;
    private readonly IndexPattern _index;
    private readonly AuthenticationHeaderValue? _auth;
    private int _node;

    /// <summary>Creates the sink over <paramref name="client"/>.</summary>
    public ElasticsearchSink(ElasticsearchOptions options, HttpClient client, TimeProvider time)
        : base(options?.Name ?? "", "elasticsearch", client, options?.Resilience ?? new(), time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nodes.Count == 0)
        {
            throw new ArgumentException("AuditStream:Sinks:Elasticsearch:Nodes must name at least one node.", nameof(options));
        }

        _options = options;
        _index = new IndexPattern(options.Index);
        _auth = !string.IsNullOrEmpty(options.ApiKey)
            ? new AuthenticationHeaderValue("ApiKey", options.ApiKey)
            : !string.IsNullOrEmpty(options.Username)
                ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(options.Username + ":" + options.Password)))
                : null;
    }

    private Uri Node => _options.Nodes[Volatile.Read(ref _node) % _options.Nodes.Count];

    /// <summary>Puts the index template (mappings of the event schema) unless <see cref="ElasticsearchOptions.TemplateName"/> is empty.</summary>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_options.TemplateName))
        {
            return;
        }

        var body = IndexTemplate.Build(_index.Wildcard);
        using var response = await Http.SendAsync(
            () => Request(HttpMethod.Put, "_index_template/" + Uri.EscapeDataString(_options.TemplateName), body, s_json),
            cancellationToken).ConfigureAwait(false);
        if (await Http.ClassifyAsync(response, cancellationToken).ConfigureAwait(false) is { } failure)
        {
            NextNode();
            throw new HttpRequestException($"Elasticsearch refused the index template {_options.TemplateName}: {failure.Reason}");
        }
    }

    /// <inheritdoc />
    public override async Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var body = BulkBody(batch);
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(() => Request(HttpMethod.Post, "_bulk", body, s_ndjson), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            NextNode();
            throw;
        }

        using (response)
        {
            if (await Http.ClassifyAsync(response, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                if (failure.Kind == SinkDeliveryKind.Transient)
                {
                    NextNode();
                }

                return failure;
            }

            var json = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return ReadItems(json, batch);
        }
    }

    private void NextNode() => Interlocked.Increment(ref _node);

    private HttpRequestMessage Request(HttpMethod method, string path, byte[] body, MediaTypeHeaderValue type)
    {
        var request = new HttpRequestMessage(method, new Uri(Node, path)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = type;
        request.Headers.Authorization = _auth;
        return request;
    }

    private byte[] BulkBody(SinkBatch batch)
    {
        var buffer = new ArrayBufferWriter<byte>(batch.Records.Count * 600);
        var options = new JsonWriterOptions { SkipValidation = true };
        using var writer = new Utf8JsonWriter(buffer, options);
        foreach (var record in batch.Records)
        {
            writer.WriteStartObject();
            writer.WriteStartObject("index");
            writer.WriteString("_index", _index.Resolve(record.Timestamp));
            writer.WriteString("_id", SinkJson.EventId(record)?.ToString() ?? record.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
            buffer.Write("\n"u8);
            writer.Reset();
            SinkJson.WriteEvent(writer, record, _options.IncludePii, SubjectKeys);
            writer.Flush();
            buffer.Write("\n"u8);
            writer.Reset();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Per-item outcome of a bulk response; the items come in the order of the actions.</summary>
    private static SinkDelivery ReadItems(byte[] json, SinkBatch batch)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.True)
        {
            return SinkDelivery.Delivered();
        }

        var rejected = new List<RejectedRecord>();
        var retry = new List<long>();
        string? retryReason = null;
        var i = 0;
        foreach (var item in root.GetProperty("items").EnumerateArray())
        {
            if (i >= batch.Records.Count)
            {
                break;
            }

            var seq = batch.Records[i++].Seq;
            var result = item.EnumerateObject().First().Value;
            var status = result.TryGetProperty("status", out var s) ? s.GetInt32() : 500;
            if (status is >= 200 and < 300)
            {
                continue;
            }

            var reason = result.TryGetProperty("error", out var error) ? Describe(status, error) : $"HTTP {status}";
            if (status is 429 or >= 500)
            {
                retry.Add(seq);
                retryReason ??= reason;
            }
            else
            {
                rejected.Add(new RejectedRecord(seq, reason));
            }
        }

        return SinkDelivery.Partial(rejected, retry, retryReason);
    }

    private static string Describe(int status, JsonElement error) =>
        error.ValueKind == JsonValueKind.Object
            ? $"HTTP {status} {Text(error, "type")}: {Text(error, "reason")}"
            : $"HTTP {status}: {error}";

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ToString() : null;
}
