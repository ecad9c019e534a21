using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Tests.Elasticsearch;

namespace AuditStream.Sinks.Tests.Support;

/// <summary>One delivered event as the receiver saw it.</summary>
internal readonly record struct Delivered(Guid Id, long Seq);

/// <summary>
/// What a receiver that de-duplicates by idempotency key keeps (Elasticsearch: the <c>_id</c> of each item; webhooks: the
/// <c>webhook-id</c> of each request): how often each key was accepted, and the events of each key's first acceptance in
/// arrival order. A key accepted again must carry the same events, else de-duplicating by it would lose or repeat events.
/// </summary>
internal sealed class DeliveryLog
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Count, long[] Seqs)> _keys = [];
    private readonly List<Delivered> _first = [];
    private readonly List<string> _mismatches = [];
    private long _events;

    /// <summary>Distinct keys accepted so far.</summary>
    public int Keys
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>Events of first acceptances so far.</summary>
    public int FirstCount
    {
        get
        {
            lock (_gate)
            {
                return _first.Count;
            }
        }
    }

    /// <summary>Events accepted so far, repeats included.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>The events of each key's first acceptance, in arrival order.</summary>
    public IReadOnlyList<Delivered> First
    {
        get
        {
            lock (_gate)
            {
                return [.. _first];
            }
        }
    }

    /// <summary>Keys accepted more than once, with how often.</summary>
    public IReadOnlyDictionary<string, int> Repeated
    {
        get
        {
            lock (_gate)
            {
                return _keys.Where(k => k.Value.Count > 1).ToDictionary(k => k.Key, k => k.Value.Count);
            }
        }
    }

    /// <summary>Keys accepted again with other events than the first time.</summary>
    public IReadOnlyList<string> Mismatches
    {
        get
        {
            lock (_gate)
            {
                return [.. _mismatches];
            }
        }
    }

    /// <summary>Records that the receiver accepted <paramref name="events"/> under <paramref name="key"/>.</summary>
    public void Accept(string key, IReadOnlyList<Delivered> events)
    {
        Interlocked.Add(ref _events, events.Count);
        var seqs = events.Select(e => e.Seq).ToArray();
        lock (_gate)
        {
            if (_keys.TryGetValue(key, out var seen))
            {
                _keys[key] = (seen.Count + 1, seen.Seqs);
                if (!seen.Seqs.SequenceEqual(seqs))
                {
                    _mismatches.Add(key);
                }

                return;
            }

            _keys[key] = (1, seqs);
            _first.AddRange(events);
        }
    }

    /// <summary>Records every item of an accepted Elasticsearch <c>_bulk</c> request, each under its <c>_id</c>.</summary>
    public void AcceptBulk(IEnumerable<Delivered> items)
    {
        foreach (var item in items)
        {
            Accept(item.Id.ToString(), [item]);
        }
    }

    /// <summary>The (id, seq) of each item of a <c>_bulk</c> request, in order.</summary>
    public static List<Delivered> BulkItems(ReceivedRequest request) =>
        [.. FakeElasticsearch.Items(request)
            .Select(i => new Delivered(Guid.Parse(i.Action.GetProperty("_id").GetString()!), i.Document.GetProperty("seq").GetInt64()))];

    /// <summary>The (id, seq) of each event of a webhook delivery, in order.</summary>
    public static List<Delivered> WebhookEvents(ReceivedRequest request) =>
        [.. JsonNode.Parse(request.Body)!["events"]!.AsArray()
            .Select(e => new Delivered(Guid.Parse(e!["id"]!.GetValue<string>()), e["seq"]!.GetValue<long>()))];

    /// <summary>
    /// Posts <paramref name="count"/> events to the server's events API, <paramref name="perRequest"/> per request with
    /// <paramref name="parallel"/> requests at a time, and returns the receipts in seq order.
    /// </summary>
    public static async Task<List<Delivered>> IngestAsync(HttpClient producer, int count, int perRequest = 1_000, int parallel = 2)
    {
        var receipts = new List<Delivered>(count);
        var requests = Enumerable.Range(0, (count + perRequest - 1) / perRequest);
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (r, ct) =>
        {
            var first = r * perRequest;
            var body = new StringBuilder("[");
            for (var i = first; i < Math.Min(count, first + perRequest); i++)
            {
                body.Append(i == first ? "" : ",").Append(Json.Event(i));
            }

            using var response = await producer.PostAsync("api/v1/events", Json.Content(body.Append(']').ToString()), ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            Assert.True(response.IsSuccessStatusCode, string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode}: {text}"));
            var events = JsonNode.Parse(text)!["events"]!.AsArray()
                .Select(e => new Delivered(Guid.Parse(e!["id"]!.GetValue<string>()), e["seq"]!.GetValue<long>()));
            lock (receipts)
            {
                receipts.AddRange(events);
            }
        });
        return [.. receipts.OrderBy(r => r.Seq)];
    }
}
