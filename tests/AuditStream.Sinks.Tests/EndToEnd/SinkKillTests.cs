using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Elasticsearch;
using AuditStream.Sinks.Tests.Support;
using Xunit.Abstractions;

namespace AuditStream.Sinks.Tests.EndToEnd;

/// <summary>
/// Issue 8, "a server killed mid-delivery and restarted resumes with nothing missing": the real <c>auditstream serve</c> as
/// a child process with the Elasticsearch sink (configured by the seed environment variables) and a webhook sink, both
/// aimed at one loopback receiver. 1,350 events are ingested; the receiver acknowledges each sink's requests until the one
/// that reaches seq 1,350 (at least the fourth, and not a full batch: it was sent after the linger), processes that one
/// and never answers it. While both are in flight the other 3,650 events are ingested and the process tree is killed.
/// The restarted server resumes each sink from the position saved after its last acknowledged request: every event
/// arrives, the first delivery of each idempotency key (Elasticsearch <c>_id</c>, <c>webhook-id</c>) is in seq order,
/// and the only keys delivered twice are those of the requests in flight at the kill. The webhook request in flight is
/// sent again as it was, under the same <c>webhook-id</c>, although more events are waiting by then.
/// </summary>
public sealed class SinkKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Events = 5_000;
    private const int BatchSize = 400;
    private const int BeforeKill = 1_350;

    private readonly string _data = Path.Combine(Path.GetTempPath(), "auditstream-server-tests", Guid.NewGuid().ToString("N"));
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private FakeReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await FakeReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Server_process_killed_mid_delivery_and_restarted_delivers_every_event_in_seq_order_repeating_only_the_requests_in_flight()
    {
        var clock = Stopwatch.StartNew();
        var es = new Receiving("elasticsearch");
        var hook = new Receiving("siem");
        _receiver.Handler = r =>
        {
            if (r.Path == "/hook")
            {
                return hook.Receive(r.Header("webhook-id"), DeliveryLog.WebhookEvents(r), new Reply(204, ""));
            }

            if (FakeElasticsearch.IsBulk(r))
            {
                var items = DeliveryLog.BulkItems(r);
                return es.Receive(null, items, FakeElasticsearch.Response(r, (_, _) => 201));
            }

            return Reply.Ok();
        };

        List<Delivered> receipts;
        await using (var first = await ServerProcess.StartAsync(_data, Environment()))
        {
            using var producer = Producer(first.BaseAddress);
            receipts = await DeliveryLog.IngestAsync(producer, BeforeKill, parallel: 1);
            await Task.WhenAll(es.InFlight, hook.InFlight).WaitAsync(TimeSpan.FromSeconds(60));
            receipts.AddRange(await DeliveryLog.IngestAsync(producer, Events - BeforeKill));
            await first.KillAsync();
        }

        var killedAt = clock.Elapsed;
        await using (var state = await SinkStateStore.OpenAsync(_data))
        {
            foreach (var sink in new[] { es, hook })
            {
                // Saved in sinks.db after each acknowledged request, never for the one in flight.
                var saved = await state.GetCursorAsync(sink.Name, default);
                Assert.Equal(sink.AcknowledgedThrough, saved?.Position);
                var inFlight = await sink.InFlight;
                Assert.Equal(saved?.Position + 1, inFlight[0].Seq);
                Assert.InRange(inFlight.Count, 1, BatchSize - 1);
                Assert.True(sink.Requests > 3, $"{sink.Name} sent {sink.Requests} requests before the kill");
            }
        }

        es.Hang = hook.Hang = false;
        await using (var restarted = await ServerProcess.StartAsync(_data, Environment()))
        {
            try
            {
                await _receiver.WaitUntilAsync(_ => es.Log.FirstCount >= Events && hook.Log.FirstCount >= Events, TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"after the restart: elasticsearch has {es.Log.FirstCount}, webhook {hook.Log.FirstCount} of {Events} events: the server wrote:\n{restarted.Output}");
            }
        }

        var (esInFlight, hookInFlight) = (await es.InFlight, await hook.InFlight);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"killed after {killedAt.TotalSeconds:F1} s with {esInFlight.Count} (elasticsearch) and {hookInFlight.Count} (webhook) events in flight; all {Events} delivered {clock.Elapsed.TotalSeconds:F1} s after the first start"));
        Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), receipts.Select(r => r.Seq));

        // Elasticsearch: one key per event; the events of the bulk request in flight were indexed twice.
        Assert.Equal(receipts, es.Log.First);
        Assert.Equal(esInFlight.Select(d => d.Id.ToString()).Order(), es.Log.Repeated.Keys.Order());
        Assert.All(es.Log.Repeated.Values, count => Assert.Equal(2, count));
        Assert.Equal(Events + esInFlight.Count, es.Log.Events);

        // Webhook: one key per request; the request in flight came again after the restart with the same events under the same key.
        Assert.Equal(receipts, hook.Log.First);
        Assert.Equal([hook.InFlightKey!], hook.Log.Repeated.Keys);
        Assert.Equal(2, hook.Log.Repeated[hook.InFlightKey!]);
        Assert.Empty(hook.Log.Mismatches);
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["ELASTICSEARCH_ENABLED"] = "true",
        ["ELASTICSEARCH_NODES"] = _receiver.BaseAddress.ToString().TrimEnd('/'),
        ["AuditStream__Sinks__Elasticsearch__MaxBatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["AuditStream__Sinks__Elasticsearch__Linger"] = "00:00:00.050",
        ["AuditStream__Sinks__Webhooks__0__Name"] = "siem",
        ["AuditStream__Sinks__Webhooks__0__Url"] = _receiver.BaseAddress + "hook",
        ["AuditStream__Sinks__Webhooks__0__MaxBatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["AuditStream__Sinks__Webhooks__0__Linger"] = "00:00:00.050",
        // The unanswered requests must not time out and go again before the kill.
        ["AuditStream__Sinks__Elasticsearch__Resilience__AttemptTimeout"] = "00:02:00",
        ["AuditStream__Sinks__Webhooks__0__Resilience__AttemptTimeout"] = "00:02:00",
        ["AuditStream__Auth__SigningKey"] = Convert.ToBase64String(_secret),
        ["AuditStream__Hub__RecordActivity"] = "false",

        // ServerProcess waits for the "listening on" line, logged at Information.
        ["Logging__LogLevel__Default"] = "Information",
    };

    private HttpClient Producer(Uri server)
    {
        var token = new TokenIssuer(_secret, new AuthOptions(), TimeProvider.System).Issue("operator", "acme", [AuditClaims.WriteScope], TimeSpan.FromHours(1));
        var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// The receiver's side of one sink: it processes every request (records it in <see cref="Log"/>) and acknowledges it,
    /// except, while <see cref="Hang"/>, those that reach seq <see cref="BeforeKill"/>: these are never answered.
    /// </summary>
    private sealed class Receiving(string name)
    {
        private readonly TaskCompletionSource<List<Delivered>> _inFlight = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requests;
        private long _acknowledgedThrough;
        private volatile bool _hang = true;

        public string Name { get; } = name;

        public DeliveryLog Log { get; } = new();

        /// <summary>The events of the first request left unanswered.</summary>
        public Task<List<Delivered>> InFlight => _inFlight.Task;

        /// <summary>The webhook-id of that request.</summary>
        public string? InFlightKey { get; private set; }

        public long AcknowledgedThrough => Interlocked.Read(ref _acknowledgedThrough);

        public int Requests => Volatile.Read(ref _requests);

        public bool Hang
        {
            get => _hang;
            set => _hang = value;
        }

        /// <summary>Processes a request under <paramref name="key"/> (null: each event under its id) and answers it, or not.</summary>
        public Reply Receive(string? key, List<Delivered> events, Reply reply)
        {
            if (key is null)
            {
                Log.AcceptBulk(events);
            }
            else
            {
                Log.Accept(key, events);
            }

            Interlocked.Increment(ref _requests);
            if (_hang && events[^1].Seq >= BeforeKill)
            {
                if (!_inFlight.Task.IsCompleted)
                {
                    InFlightKey = key;
                    _inFlight.TrySetResult(events);
                }

                return reply with { Delay = TimeSpan.FromMinutes(5) };
            }

            Interlocked.Exchange(ref _acknowledgedThrough, events[^1].Seq);
            return reply;
        }
    }
}
