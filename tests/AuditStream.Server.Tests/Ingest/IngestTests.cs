using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ingest;

public sealed class IngestTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_single_event_is_committed_and_answered_201_with_seq_id_hash_and_location()
    {
        using var client = _server.Producer();
        using var response = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Json.ReadAsync(response);
        Assert.Equal(1, body["seq"]!.GetValue<long>());
        Assert.Matches("^[0-9a-f]{64}$", body["hash"]!.GetValue<string>());
        Assert.True(Guid.TryParse(body["id"]!.GetValue<string>(), out _));
        Assert.False(body["duplicate"]!.GetValue<bool>());
        Assert.Equal("/api/v1/events/1", response.Headers.Location!.OriginalString);

        // Committed means readable, with the producer's tenant filled in.
        using var reader = _server.Reader();
        var stored = await Json.ReadAsync(await reader.GetAsync("api/v1/events/1"));
        Assert.Equal("acme", stored["tenant_id"]!.GetValue<string>());
        Assert.Equal(body["hash"]!.GetValue<string>(), stored["hash"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_array_is_committed_atomically_with_one_receipt_per_event_in_order()
    {
        using var client = _server.Producer();
        var body = await Json.PostEventsAsync(client, Json.Event(1), Json.Event(2), Json.Event(3));
        var receipts = body["events"]!.AsArray();
        Assert.Equal([0, 1, 2], receipts.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal([1L, 2, 3], receipts.Select(r => r!["seq"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Ndjson_is_accepted_and_blank_lines_are_ignored()
    {
        using var client = _server.Producer();
        var ndjson = Json.Event(1) + "\n\n" + Json.Event(2) + "\r\n" + Json.Event(3) + "\n";
        using var response = await client.PostAsync("api/v1/events", Json.Content(ndjson, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var receipts = (await Json.ReadAsync(response))["events"]!.AsArray();
        Assert.Equal(3, receipts.Count);
    }

    [Fact]
    public async Task A_resent_id_returns_the_original_record_with_200_and_writes_nothing()
    {
        using var client = _server.Producer();
        var id = Guid.NewGuid();
        var e = Json.Event(1, extra: $"\"id\":\"{id}\"");
        using var first = await client.PostAsync("api/v1/events", Json.Content(e));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await Json.PostEventsAsync(client, Json.Event(2));
        using var again = await client.PostAsync("api/v1/events", Json.Content(e));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var (a, b) = (await Json.ReadAsync(first), await Json.ReadAsync(again));
        Assert.Equal(a["seq"]!.GetValue<long>(), b["seq"]!.GetValue<long>());
        Assert.Equal(a["hash"]!.GetValue<string>(), b["hash"]!.GetValue<string>());
        Assert.True(b["duplicate"]!.GetValue<bool>());
        Assert.Equal(2, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_batch_with_invalid_events_is_refused_whole_listing_each_index_field_and_rule()
    {
        using var client = _server.Producer();
        var events = new[]
        {
            Json.Event(0),
            Json.Event(1, severity: "fatal"),
            Json.Event(2),
            """{"type":"data.accessed","category":"data"}""",
            Json.Event(4, extra: "\"colour\":\"red\""),
        };
        using var response = await client.PostAsync("api/v1/events", Json.Content("[" + string.Join(',', events) + "]"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        var errors = problem["errors"]!.AsArray().Select(e => (e!["index"]!.GetValue<int>(), e["field"]!.GetValue<string>(), e["rule"]!.GetValue<string>())).ToList();
        Assert.Contains(errors, e => e.Item1 == 4 && e.Item2 == "colour");
        Assert.Equal(0, _server.Ledger.Head.Size);

        // Without the unknown field the semantic errors are all listed at once.
        events[4] = Json.Event(4);
        using var second = await client.PostAsync("api/v1/events", Json.Content("[" + string.Join(',', events) + "]"));
        var secondErrors = (await Json.ReadAsync(second))["errors"]!.AsArray()
            .Select(e => (e!["index"]!.GetValue<int>(), e["field"]!.GetValue<string>(), e["rule"]!.GetValue<string>())).ToList();
        Assert.Contains((1, "severity", "must be one of critical, error, warning, info"), secondErrors);
        Assert.Contains(secondErrors, e => e.Item1 == 3 && e.Item2 == "severity" && e.Item3 == "is required");
        Assert.DoesNotContain(secondErrors, e => e.Item1 is 0 or 2);
        Assert.Equal(0, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_naming_the_body()
    {
        using var client = _server.Producer();
        using var response = await client.PostAsync("api/v1/events", Json.Content("[{\"type\":"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal("body", problem["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_field_given_twice_is_refused_rather_than_silently_overwritten()
    {
        using var client = _server.Producer();
        using var response = await client.PostAsync("api/v1/events", Json.Content("""{"type":"a.b","severity":"info","severity":"critical","category":"data"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_wrong_media_type_is_415()
    {
        using var client = _server.Producer();
        using var response = await client.PostAsync("api/v1/events", new StringContent(Json.Event(1), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/x-ndjson", (await Json.ReadAsync(response))["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_many_events_or_too_many_bytes_are_413_and_nothing_is_written()
    {
        await using var small = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Server:MaxEventsPerRequest"] = "5",
            ["AuditStream:Server:MaxRequestBytes"] = "4096",
        });
        using var client = small.Producer();
        using var tooMany = await client.PostAsync("api/v1/events", Json.Content("[" + string.Join(',', Enumerable.Range(0, 6).Select(i => Json.Event(i))) + "]"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Contains("at most 5", (await Json.ReadAsync(tooMany))["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        using var tooManyLines = await client.PostAsync("api/v1/events", Json.Content(string.Join('\n', Enumerable.Range(0, 6).Select(i => Json.Event(i))), "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooManyLines.StatusCode);

        var big = Json.Event(1, extra: $"\"metadata\":{{\"blob\":\"{new string('x', 5000)}\"}}");
        using var tooBig = await client.PostAsync("api/v1/events", Json.Content(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);

        // Chunked (no Content-Length): the limit holds while reading.
        var chunked = new PushStreamContentLike(Encoding.UTF8.GetBytes(big));
        using var tooBigChunked = await client.PostAsync("api/v1/events", chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigChunked.StatusCode);
        Assert.Equal(0, small.Ledger.Head.Size);
    }

    [Fact]
    public async Task Ingest_needs_a_token_with_the_write_scope()
    {
        using var anonymous = _server.Client();
        using var noToken = await anonymous.PostAsync("api/v1/events", Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);

        using var reader = _server.Client(_server.Token("admin", "acme"));
        using var noScope = await reader.PostAsync("api/v1/events", Json.Content(Json.Event(1)));
        Assert.Equal(HttpStatusCode.Forbidden, noScope.StatusCode);
        Assert.Equal(0, _server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_producer_cannot_write_for_another_tenant()
    {
        using var client = _server.Producer("acme");
        using var response = await client.PostAsync("api/v1/events", Json.Content("[" + Json.Event(0) + "," + Json.Event(1, extra: "\"tenant_id\":\"globex\"") + "]"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await Json.ReadAsync(response))["errors"]![0]!;
        Assert.Equal(1, error["index"]!.GetValue<int>());
        Assert.Equal("tenant_id", error["field"]!.GetValue<string>());
        Assert.Equal(0, _server.Ledger.Head.Size);

        using var own = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: "\"tenant_id\":\"acme\"")));
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
    }

    /// <summary>Content without a known length, sent chunked.</summary>
    private sealed class PushStreamContentLike : HttpContent
    {
        private readonly byte[] _bytes;

        public PushStreamContentLike(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
