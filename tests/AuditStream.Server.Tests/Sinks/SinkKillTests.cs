using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AuditStream.Server.Auth;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Elasticsearch;
using AuditStream.Sinks.Tests.Support;
using Xunit.Abstractions;

namespace AuditStream.Server.Tests.Sinks;

/// <summary>
/// Issue 8, "a server killed mid-delivery and restarted resumes with nothing missing": the real <c>auditstream serve</c>
/// as a child process with the Elasticsearch sink configured by the seed environment variables. The receiver acknowledges
/// three <c>_bulk</c> requests, indexes the fourth and never answers it; while that batch is in flight the process tree is
/// killed. The restarted server resumes from the position saved after the third batch: every event is indexed, the
/// first indexing of each <c>_id</c> is in seq order, and the only events indexed twice are those of the batch in flight.
/// </summary>
public sealed class SinkKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Events = 5_000;
    private const int BatchSize = 500;
    private const int AcknowledgedBatches = 3;

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
    public async Task Server_process_killed_mid_bulk_and_restarted_indexes_every_event_in_seq_order_and_repeats_only_the_batch_in_flight()
    {
        var clock = Stopwatch.StartNew();
        var log = new DeliveryLog();
        var bulks = 0;
        var hang = true;
        long acknowledgedThrough = 0;
        var inFlight = new TaskCompletionSource<List<Delivered>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver.Handler = r =>
        {
            if (!FakeElasticsearch.IsBulk(r))
            {
                return Reply.Ok();
            }

            // Elasticsearch indexes the items whether or not its answer reaches the server.
            var items = DeliveryLog.BulkItems(r);
            log.AcceptBulk(items);
            var reply = FakeElasticsearch.Response(r, (_, _) => 201);
            if (Volatile.Read(ref hang) && Interlocked.Increment(ref bulks) > AcknowledgedBatches)
            {
                inFlight.TrySetResult(items);
                return reply with { Delay = TimeSpan.FromMinutes(5) };
            }

            Interlocked.Exchange(ref acknowledgedThrough, items[^1].Seq);
            return reply;
        };

        List<Delivered> receipts;
        List<Delivered> unacknowledged;
        await using (var first = await ServerProcess.StartAsync(_data, Environment()))
        {
            using var producer = Producer(first.BaseAddress);
            receipts = await DeliveryLog.IngestAsync(producer, Events, perRequest: BatchSize);
            unacknowledged = await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await first.KillAsync();
        }

        var killedAt = clock.Elapsed;
        Assert.True(log.Keys < Events, "everything was delivered before the kill");

        // Saved in sinks.db after each acknowledged batch, never for the one in flight.
        await using (var state = await SinkStateStore.OpenAsync(_data))
        {
            var saved = await state.GetCursorAsync("elasticsearch", default);
            Assert.Equal(Interlocked.Read(ref acknowledgedThrough), saved?.Position);
            Assert.Equal(saved?.Position + 1, unacknowledged[0].Seq);
        }

        Volatile.Write(ref hang, false);
        await using (var restarted = await ServerProcess.StartAsync(_data, Environment()))
        {
            await _receiver.WaitUntilAsync(_ => log.Keys >= Events, TimeSpan.FromSeconds(60));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"killed after {killedAt.TotalSeconds:F1} s with {unacknowledged.Count} events in flight; all {Events} indexed {clock.Elapsed.TotalSeconds:F1} s after the first start"));
        Assert.Equal(Enumerable.Range(1, Events).Select(i => (long)i), receipts.Select(r => r.Seq));
        Assert.Equal(receipts, log.First);
        Assert.Equal(unacknowledged.Select(d => d.Id.ToString()).Order(), log.Repeated.Keys.Order());
        Assert.All(log.Repeated.Values, count => Assert.Equal(2, count));
        Assert.Equal(Events + unacknowledged.Count, log.Events);
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["ELASTICSEARCH_ENABLED"] = "true",
        ["ELASTICSEARCH_NODES"] = _receiver.BaseAddress.ToString().TrimEnd('/'),
        ["AuditStream__Sinks__Elasticsearch__MaxBatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["AuditStream__Sinks__Elasticsearch__Linger"] = "00:00:00.050",
        ["AuditStream__Auth__SigningKey"] = Convert.ToBase64String(_secret),
        ["AuditStream__Hub__RecordActivity"] = "false",
        ["Logging__LogLevel__Default"] = "Information",
    };

    private HttpClient Producer(Uri server)
    {
        var token = new TokenIssuer(_secret, new AuthOptions(), TimeProvider.System).Issue("operator", "acme", [AuditClaims.WriteScope], TimeSpan.FromHours(1));
        var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
