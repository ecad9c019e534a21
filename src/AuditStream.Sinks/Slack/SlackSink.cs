using System.Net.Http.Headers;
using AuditStream.Events;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Slack;

/// <summary>
/// Posts events to Slack incoming webhooks as Block Kit messages, routed per <see cref="SlackOptions.Routes"/> and the
/// built-in channels, at most one message per <see cref="SlackOptions.MessageInterval"/> per webhook (Slack's
/// 429 <c>Retry-After</c> is honoured by the pipeline). Within a batch, when more than
/// <see cref="SlackOptions.DigestThreshold"/> events of one type go to one channel, the first is posted and the rest are
/// summed up in one digest message. Slack has no idempotency key: after a failure only the messages not yet accepted are sent again.
/// </summary>
public sealed class SlackSink : HttpSink
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json") { CharSet = "utf-8" };

    private readonly SlackOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<Uri, long> _nextAllowed = [];
    private readonly List<(SlackRoute Route, Filters.CompiledFilter Filter)> _routes;

    /// <summary>Creates the sink over <paramref name="client"/>.</summary>
    public SlackSink(SlackOptions options, HttpClient client, TimeProvider time)
        : base(options?.Name ?? "", "slack", client, options?.Resilience ?? new(), time)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.WebhookUrl is null && options.Routes.Any(r => r.WebhookUrl is null && !r.Drop))
        {
            throw new ArgumentException("AuditStream:Sinks:Slack:WebhookUrl (SLACK_WEBHOOK_URL) is required.", nameof(options));
        }

        _options = options;
        _time = time;
        _routes = [.. AllRoutes(options).Select(r => (r, Filters.CompiledFilter.Compile(
            new Filters.StreamFilter { Severities = [.. r.Severities], Categories = [.. r.Categories], EventTypes = [.. r.EventTypes] }, time)))];
    }

    /// <inheritdoc />
    public override Task<SinkDelivery> DeliverAsync(SinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return DeliverInTurnAsync(
            Plan(batch.Records),
            static m => m.Records.Select(static r => r.Seq),
            Request,
            (m, ct) => ThrottleAsync(m.Webhook, ct),

            // The interval runs from the last request, including retries the pipeline made after a 429.
            m => _nextAllowed[m.Webhook] = _time.GetTimestamp() + (long)(_options.MessageInterval.TotalSeconds * _time.TimestampFrequency),
            cancellationToken);
    }

    /// <summary>Which channel (and webhook) an event goes to, or null when it is not posted.</summary>
    internal (Uri Webhook, string? Channel)? Route(AuditEvent e)
    {
        foreach (var (route, filter) in _routes)
        {
            if (filter.Matches(e))
            {
                return route.Drop || (route.WebhookUrl ?? _options.WebhookUrl) is not { } webhook ? null : (webhook, route.Channel);
            }
        }

        return null;
    }

    private List<Message> Plan(IReadOnlyList<LedgerRecord> records)
    {
        var messages = new List<Message>();
        var groups = new Dictionary<(Uri, string?, string?), List<LedgerRecord>>();
        var order = new List<(Uri, string?, string?)>();
        foreach (var record in records)
        {
            if (Route(record.Event) is not { } target)
            {
                continue;
            }

            var key = (target.Webhook, target.Channel, record.Event.Type);
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = [];
                order.Add(key);
            }

            group.Add(record);
        }

        foreach (var key in order)
        {
            var (webhook, channel, _) = key;
            var group = groups[key];
            if (group.Count <= _options.DigestThreshold)
            {
                messages.AddRange(group.Select(r => new Message(webhook, SlackMessages.Event(r, channel, _options.EventLinkBase), [r])));
                continue;
            }

            messages.Add(new Message(webhook, SlackMessages.Event(group[0], channel, _options.EventLinkBase), [group[0]]));
            var rest = group.GetRange(1, group.Count - 1);
            messages.Add(new Message(webhook, SlackMessages.Digest(rest, channel, _options.EventLinkBase), rest));
        }

        return messages;
    }

    private async Task ThrottleAsync(Uri webhook, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (_nextAllowed.TryGetValue(webhook, out var next) && next > now)
        {
            await Task.Delay(TimeSpan.FromSeconds((next - now) / (double)_time.TimestampFrequency), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static HttpRequestMessage Request(Message message)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, message.Webhook) { Content = new ByteArrayContent(message.Body) };
        request.Content.Headers.ContentType = s_json;
        return request;
    }

    private static IEnumerable<SlackRoute> AllRoutes(SlackOptions options)
    {
        foreach (var route in options.Routes)
        {
            yield return route;
        }

        yield return new SlackRoute { Severities = ["critical"], Channel = options.CriticalChannel };
        yield return new SlackRoute { Categories = ["security", "compliance"], Channel = options.AuditChannel };
    }

    private sealed record Message(Uri Webhook, byte[] Body, IReadOnlyList<LedgerRecord> Records);
}
