using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Server.Tests.Operations;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Server.Tests.Witnessing;

/// <summary>
/// The server's witness client against real witnesses (WitnessHost, what <c>auditstream witness</c> runs) on loopback:
/// cosigning by a quorum, a witness that is down, and a witness that has seen a forked tree (split view).
/// Reads the witness metrics, so it runs in the process-wide metrics collection (OpenTelemetry listens to every meter of
/// a name in the process, and other tests' servers create the witnessing meter too).
/// </summary>
[Collection(ProcessMetrics.Name)]
public sealed class WitnessingTests : IAsyncLifetime
{
    private readonly WitnessFleet _fleet = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Fact]
    public async Task Checkpoints_are_cosigned_by_two_of_two_witnesses_and_served_with_both_cosignatures_as_the_tree_grows()
    {
        var w1 = await _fleet.StartAsync("witness.test/one");
        var w2 = await _fleet.StartAsync("witness.test/two");
        await using var server = await TestServer.StartAsync(_fleet.Settings(2, w1, w2));
        using var producer = server.Producer();
        using var anonymous = server.Client();

        await Json.PostEventsAsync(producer, [.. Enumerable.Range(0, 5).Select(i => Json.Event(i))]);
        var first = await WitnessedAsync(anonymous, size => size >= 5);
        AssertCosignedByBoth(first, w1, w2);

        // A second round needs a consistency proof from the size each witness cosigned: their state moves with it.
        await Json.PostEventsAsync(producer, [.. Enumerable.Range(5, 12).Select(i => Json.Event(i))]);
        var grown = await WitnessedAsync(anonymous, size => size >= 17);
        AssertCosignedByBoth(grown, w1, w2);
        Assert.Contains("\"size\": 17", await File.ReadAllTextAsync(w1.StatePath), StringComparison.Ordinal);
        Assert.Contains("\"size\": 17", await File.ReadAllTextAsync(w2.StatePath), StringComparison.Ordinal);

        // The plain checkpoint endpoints carry the cosignatures too once the latest checkpoint has them, and a reader
        // with the SDK's policy accepts it.
        var plain = await Eventually.GetAsync(() => anonymous.GetStringAsync("api/v1/ledger/tlog/checkpoint"), note => SignedNote.Parse(note).Signatures.Count == 3);
        AssertCosignedByBoth(plain, w1, w2);
        Assert.Null(new AuditStream.Client.Verification.WitnessPolicy([w1.VerifierKey, w2.VerifierKey], 2).Check(plain));

        var ready = await ReadyAsync(server);
        Assert.Equal("healthy", ready["checks"]!["ledger_witnessing"]!["status"]!.GetValue<string>());
        var scrape = await PrometheusScrape.ReadAsync(server);
        Assert.Equal(17, scrape.Value("audit_witness_cosigned_tree_size", ("witness", w1.Name)));
        Assert.Equal(0, scrape.Value("audit_witness_failures_total", ("witness", w2.Name)));
        Assert.Equal(17, scrape.Value("audit_witness_witnessed_tree_size"));
    }

    [Fact]
    public async Task A_witness_that_is_down_does_not_stop_ingest_shows_in_ready_and_metrics_and_is_retried_until_it_cosigns()
    {
        var up = await _fleet.StartAsync("witness.test/up");
        var down = await _fleet.StartAsync("witness.test/down");
        var downPort = down.Address.Port;
        await down.StopAsync();
        await using var server = await TestServer.StartAsync(_fleet.Settings(2, up, down));
        using var producer = server.Producer();
        using var anonymous = server.Client();

        for (var round = 0; round < 5; round++)
        {
            var accepted = await Json.PostEventsAsync(producer, [.. Enumerable.Range(round * 4, 4).Select(i => Json.Event(i))]);
            Assert.Equal(4, accepted["events"]!.AsArray().Count);
        }

        var scrape = await Eventually.GetAsync(
            () => PrometheusScrape.ReadAsync(server),
            s => s.Value("audit_witness_failures_total", ("witness", down.Name)) >= 2 && s.Value("audit_witness_cosigned_tree_size", ("witness", up.Name)) == 20);
        Assert.True(scrape.Value("audit_witness_failures_total", ("witness", down.Name)) >= 2, scrape.Text);
        Assert.Equal(20, scrape.Value("audit_witness_lag_events", ("witness", down.Name)));
        Assert.Equal(0, scrape.Value("audit_witness_lag_events", ("witness", up.Name)));
        Assert.Equal(1, scrape.Value("audit_ready"));

        using (var readyResponse = await server.Client().GetAsync("ready"))
        {
            Assert.Equal(HttpStatusCode.OK, readyResponse.StatusCode);
            var ready = await Json.ReadAsync(readyResponse);
            var check = ready["checks"]!["ledger_witnessing"]!;
            Assert.Equal("degraded", check["status"]!.GetValue<string>());
            Assert.Contains($"witness {down.Name}: failing", check["description"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("unreachable", check["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        using (var none = await anonymous.GetAsync("api/v1/ledger/checkpoint/witnessed"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, none.StatusCode);
        }

        // The witness comes back on its address: the backoff loop reaches it without a new checkpoint being needed.
        await _fleet.StartAsync(down.Name, downPort);
        var witnessed = await WitnessedAsync(anonymous, size => size == 20);
        AssertCosignedByBoth(witnessed, up, down);
        var after = await ReadyAsync(server);
        Assert.Equal("healthy", after["checks"]!["ledger_witnessing"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_witness_that_saw_a_forked_checkpoint_of_the_same_size_refuses_and_the_server_reports_the_split_view_loudly()
    {
        var honest = await _fleet.StartAsync("witness.test/honest");
        var fooled = await _fleet.StartAsync("witness.test/fooled");

        // Someone holding the ledger key showed the fooled witness another tree of size 3.
        var forged = _fleet.LogKey.Sign(new Checkpoint(WitnessFleet.Origin, 3, System.Security.Cryptography.SHA256.HashData("another history"u8)).ToNoteText());
        using (var direct = new HttpClient())
        using (var fork = await direct.PostAsync(new Uri(fooled.Address, "add-checkpoint"), new StringContent("old 0\n\n" + forged)))
        {
            Assert.Equal(HttpStatusCode.OK, fork.StatusCode);
        }

        var forkedState = await File.ReadAllTextAsync(fooled.StatePath);
        var logs = new CollectingLoggerProvider();
        await using var server = await TestServer.StartAsync(_fleet.Settings(2, honest, fooled), services => services.AddSingleton<ILoggerProvider>(logs));
        using var producer = server.Producer();
        using var anonymous = server.Client();
        await Json.PostEventsAsync(producer, Json.Event(1), Json.Event(2), Json.Event(3));

        var scrape = await Eventually.GetAsync(() => PrometheusScrape.ReadAsync(server), s => s.Value("audit_witness_split_view", ("witness", fooled.Name)) == 1);
        Assert.True(
            scrape.Value("audit_witness_split_view", ("witness", fooled.Name)) == 1,
            $"no split view reported; /ready: {(await ReadyAsync(server))["checks"]!["ledger_witnessing"]!.ToJsonString()}; logs: {string.Join(" | ", logs.Entries.Select(e => e.Message))}");
        Assert.Equal(0, scrape.Value("audit_witness_split_view", ("witness", honest.Name)));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Critical && e.Message.Contains("SPLIT VIEW", StringComparison.Ordinal) && e.Message.Contains(fooled.Name, StringComparison.Ordinal));

        var ready = await ReadyAsync(server);
        var description = ready["checks"]!["ledger_witnessing"]!["description"]!.GetValue<string>();
        Assert.Equal("degraded", ready["checks"]!["ledger_witnessing"]!["status"]!.GetValue<string>());
        Assert.StartsWith("2 of 2 witnesses required", description, StringComparison.Ordinal);
        Assert.Contains($"SPLIT VIEW reported by witness {fooled.Name}", description, StringComparison.Ordinal);

        // Nothing was overwritten: the fooled witness still holds the forged head, the server still serves its own
        // checkpoint (cosigned by the honest witness only) and nothing reached the 2-of-2 quorum.
        await Json.PostEventsAsync(producer, Json.Event(4), Json.Event(5));
        var served = await Eventually.GetAsync(
            () => anonymous.GetStringAsync("api/v1/ledger/checkpoint"),
            note => Size(note) == 5 && SignedNote.Parse(note).Signatures.Count == 2);
        var parsed = SignedNote.Parse(served);
        Assert.Equal(5, Size(served));
        Assert.Contains(parsed.Signatures, s => honest.Verifier.Verify(parsed.Text, s, out _));
        Assert.DoesNotContain(parsed.Signatures, s => s.KeyName == fooled.Name);
        Assert.Equal(forkedState, await File.ReadAllTextAsync(fooled.StatePath));
        using (var witnessed = await anonymous.GetAsync("api/v1/ledger/checkpoint/witnessed"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, witnessed.StatusCode);
        }

        var failures = await Eventually.GetAsync(() => PrometheusScrape.ReadAsync(server), s => s.Value("audit_witness_failures_total", ("witness", fooled.Name)) >= 2);
        Assert.True(failures.Value("audit_witness_failures_total", ("witness", fooled.Name)) >= 2, failures.Text);
    }

    [Fact]
    public async Task A_restarted_server_serves_the_cosigned_checkpoint_it_collected_before_though_its_witnesses_are_down()
    {
        var w1 = await _fleet.StartAsync("witness.test/kept-one");
        var w2 = await _fleet.StartAsync("witness.test/kept-two");
        var data = Path.Combine(_fleet.Dir, "ledger-data");
        string before;
        await using (var server = await TestServer.StartAsync(_fleet.Settings(2, w1, w2), dataDirectory: data))
        {
            await Json.PostEventsAsync(server.Producer(), [.. Enumerable.Range(0, 5).Select(i => Json.Event(i))]);
            using var anonymous = server.Client();
            before = await WitnessedAsync(anonymous, size => size == 5);
            AssertCosignedByBoth(before, w1, w2);
        }

        // With both witnesses gone nothing can be cosigned anew: what is served comes from the ledger store.
        await w1.StopAsync();
        await w2.StopAsync();
        await using var restarted = await TestServer.StartAsync(_fleet.Settings(2, w1, w2), dataDirectory: data);
        using var reader = restarted.Client();
        var after = await WitnessedAsync(reader, size => size == 5);
        Assert.Equal(before, after);
        var plain = await Eventually.GetAsync(() => reader.GetStringAsync("api/v1/ledger/checkpoint"), note => SignedNote.Parse(note).Signatures.Count == 3);
        AssertCosignedByBoth(plain, w1, w2);
        Assert.Equal(5, restarted.Services.GetRequiredService<AuditStream.Server.Witnessing.CheckpointWitnessing>().Cosigned.WitnessedSize);
    }

    [Fact]
    public async Task A_malformed_witness_key_or_a_quorum_above_the_witness_count_stops_start_up_naming_the_key()
    {
        var w1 = await _fleet.StartAsync("witness.test/config");
        var badKey = _fleet.Settings(1, w1);
        badKey["AuditStream:Witnessing:Witnesses:0:PublicKey"] = _fleet.LogKey.VerifierKey;
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(badKey));
        Assert.Contains("AuditStream:Witnessing:Witnesses:0:PublicKey", error.Message, StringComparison.Ordinal);

        var quorum = _fleet.Settings(2, w1);
        error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(quorum));
        Assert.Contains("AuditStream:Witnessing:Quorum", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> WitnessedAsync(HttpClient client, Func<long, bool> sizeIsEnough)
    {
        var note = await Eventually.GetAsync(
            async () =>
            {
                using var response = await client.GetAsync("api/v1/ledger/checkpoint/witnessed");
                return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
            },
            note => note is not null && sizeIsEnough(Size(note)));
        Assert.NotNull(note);
        Assert.True(sizeIsEnough(Size(note)), note);
        return note;
    }

    private void AssertCosignedByBoth(string note, WitnessFleet.Member a, WitnessFleet.Member b)
    {
        Assert.True(new CheckpointVerifier(_fleet.LogKey.Verifier).Open(note).Succeeded, note);
        var parsed = SignedNote.Parse(note);
        Assert.Contains(parsed.Signatures, s => a.Verifier.Verify(parsed.Text, s, out _));
        Assert.Contains(parsed.Signatures, s => b.Verifier.Verify(parsed.Text, s, out _));
    }

    private static long Size(string note) =>
        Checkpoint.TryParse(SignedNote.Parse(note).Text, out var checkpoint, out var error) ? checkpoint.TreeSize : throw new FormatException(error);

    private static async Task<JsonNode> ReadyAsync(TestServer server)
    {
        using var client = server.Client();
        using var response = await client.GetAsync("ready");
        return await Json.ReadAsync(response);
    }

    private sealed class CollectingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Collector(Entries);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<(LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
