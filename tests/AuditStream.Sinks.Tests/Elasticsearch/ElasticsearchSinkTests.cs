using System.Text;
using System.Text.Json;
using AuditStream.Sinks.Elasticsearch;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Elasticsearch;

public sealed class ElasticsearchSinkTests : SinkConformanceTests
{
    private Action<ElasticsearchOptions>? _tweak;

    protected override (IAuditSink Sink, SinkOptions Options) Create(Uri receiver, Action<SinkOptions> configure)
    {
        var options = new ElasticsearchOptions { Nodes = [receiver], Username = "elastic", Password = "s3cret" };
        configure(options);
        _tweak?.Invoke(options);
        return (new ElasticsearchSink(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, TimeProvider.System), options);
    }

    protected override bool IsDelivery(ReceivedRequest request) => FakeElasticsearch.IsBulk(request);

    protected override bool ReadsAcceptedBody => true;

    protected override IReadOnlyList<Guid> EventIds(ReceivedRequest request) =>
        [.. FakeElasticsearch.Items(request).Select(i => Guid.Parse(i.Action.GetProperty("_id").GetString()!))];

    protected override Reply AcceptedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        FakeElasticsearch.Response(request, (_, _) => 201);

    protected override (Reply Reply, IReadOnlyList<Guid> Accepted) RefusedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        (FakeElasticsearch.Response(request, (i, _) => Poison.ContainsKey(ids[i]) ? 400 : 201), [.. ids.Where(id => !Poison.ContainsKey(id))]);

    [Fact]
    public async Task Bulk_request_indexes_each_event_under_its_id_into_the_dated_index_with_basic_auth()
    {
        var events = await Fixture.AppendAsync(5);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 5);

        var bulk = Assert.Single(Receiver.Requests, FakeElasticsearch.IsBulk);
        Assert.Equal("application/x-ndjson", bulk.Header("content-type"));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("elastic:s3cret")), bulk.Header("authorization"));
        Assert.EndsWith("\n", Encoding.UTF8.GetString(bulk.Body), StringComparison.Ordinal);
        var items = FakeElasticsearch.Items(bulk);
        Assert.Equal(5, items.Count);
        for (var i = 0; i < 5; i++)
        {
            var (action, document) = items[i];
            var timestamp = document.GetProperty("timestamp").GetDateTimeOffset();
            Assert.Equal("auditstream-" + timestamp.UtcDateTime.ToString("yyyy.MM.dd"), action.GetProperty("_index").GetString());
            Assert.Equal(events[i].Id.ToString(), action.GetProperty("_id").GetString());
            Assert.Equal(events[i].Id.ToString(), document.GetProperty("id").GetString());
            Assert.Equal(i + 1, document.GetProperty("seq").GetInt64());
            Assert.Equal(64, document.GetProperty("hash").GetString()!.Length);
            Assert.Equal(events[i].Type, document.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Index_template_with_event_mappings_is_put_before_the_first_bulk()
    {
        _tweak = o => o.Index = "audit-prod-%{yyyy.MM}";
        await Fixture.AppendAsync(1);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 1);

        var requests = Receiver.Requests;
        Assert.Equal("PUT", requests[0].Method);
        Assert.Equal("/_index_template/auditstream", requests[0].Path);
        using var template = JsonDocument.Parse(requests[0].Body);
        Assert.Equal("audit-prod-*", template.RootElement.GetProperty("index_patterns")[0].GetString());
        var properties = template.RootElement.GetProperty("template").GetProperty("mappings").GetProperty("properties");
        Assert.Equal("keyword", properties.GetProperty("id").GetProperty("type").GetString());
        Assert.Equal("date", properties.GetProperty("timestamp").GetProperty("type").GetString());
        Assert.Equal("long", properties.GetProperty("seq").GetProperty("type").GetString());
        Assert.Equal("ip", properties.GetProperty("source").GetProperty("properties").GetProperty("ip").GetProperty("type").GetString());
        // pii is an object or "[masked]"/"[erased]": mapped unparsed, so neither shape makes Elasticsearch refuse the other.
        Assert.False(properties.GetProperty("pii").GetProperty("enabled").GetBoolean());
        Assert.False(properties.GetProperty("pii_envelope").GetProperty("enabled").GetBoolean());
        Assert.StartsWith("audit-prod-" + DateTime.UtcNow.ToString("yyyy.MM"), FakeElasticsearch.Items(requests[1])[0].Action.GetProperty("_index").GetString());
    }

    [Fact]
    public async Task Only_items_failing_with_429_or_5xx_are_sent_again_and_other_item_errors_are_dead_lettered()
    {
        var events = await Fixture.AppendAsync(4);
        var bulks = 0;
        Receiver.Handler = r => !FakeElasticsearch.IsBulk(r)
            ? Reply.Ok()
            : Interlocked.Increment(ref bulks) == 1
                ? FakeElasticsearch.Response(r, (i, _) => i switch { 0 => 201, 1 => 429, 2 => 400, _ => 503 })
                : FakeElasticsearch.Response(r, (_, _) => 201);
        await using var runner = StartRunner(o => o.MaxBatchSize = 10);
        await WaitForPositionAsync(runner, 4);

        var sent = Receiver.Requests.Where(FakeElasticsearch.IsBulk).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Equal([events[1].Id.ToString(), events[3].Id.ToString()], FakeElasticsearch.Items(sent[1]).Select(i => i.Action.GetProperty("_id").GetString()));
        var letter = Assert.Single(await Fixture.State.ListDeadLettersAsync(runner.Name, 0, 10, default));
        Assert.Equal(3, letter.Seq);
        Assert.Contains("mapper_parsing_exception", letter.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_key_is_sent_instead_of_basic_auth()
    {
        _tweak = o => o.ApiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";
        await Fixture.AppendAsync(1);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 1);

        Assert.All(Receiver.Requests, r => Assert.Equal("ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", r.Header("authorization")));
    }
}
