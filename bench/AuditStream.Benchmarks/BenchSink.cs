using AuditStream.Ledger;
using AuditStream.Sinks.Elasticsearch;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Webhook;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Benchmarks;

/// <summary>A sink running beside a benchmark: none, <c>down</c> (its receiver refuses connections) or <c>live</c> (Elasticsearch into a fast local endpoint).</summary>
internal sealed class BenchSink : IAsyncDisposable
{
    private readonly string? _mode;
    private readonly SinkRunner? _runner;
    private readonly SinkStateStore? _state;
    private readonly WebApplication? _endpoint;
    private readonly HttpClient? _client;

    private BenchSink(string? mode, SinkRunner? runner, SinkStateStore? state, WebApplication? endpoint, HttpClient? client)
    {
        _mode = mode;
        _runner = runner;
        _state = state;
        _endpoint = endpoint;
        _client = client;
    }

    public static async Task<BenchSink> StartAsync(string? mode, AuditLedger ledger, string directory)
    {
        if (mode is null)
        {
            return new BenchSink(null, null, null, null, null);
        }

        var state = await SinkStateStore.OpenAsync(directory);
        var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        WebApplication? endpoint = null;
        IAuditSink sink;
        SinkOptions options;
        if (mode == "down")
        {
            var webhook = new WebhookOptions { Name = "bench-down", Url = new Uri("http://127.0.0.1:1/") };
            (sink, options) = (new WebhookSink(webhook, client, TimeProvider.System), webhook);
        }
        else if (mode == "live")
        {
            (endpoint, var url) = await BenchEndpoint.StartAsync();
            var elastic = new ElasticsearchOptions { Name = "bench-live", Nodes = [url], Enabled = true };
            (sink, options) = (new ElasticsearchSink(elastic, client, TimeProvider.System), elastic);
        }
        else
        {
            throw new ArgumentException($"--sink must be down or live, not '{mode}'.");
        }

        var runner = new SinkRunner(sink, options, ledger, state, TimeProvider.System, NullLogger.Instance);
        runner.Start();
        return new BenchSink(mode, runner, state, endpoint, client);
    }

    public string Describe() => _runner is null ? "" : $" sink={_mode} sink_position={_runner.Position}";

    public async ValueTask DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }

        if (_state is not null)
        {
            await _state.DisposeAsync();
        }

        if (_endpoint is not null)
        {
            await _endpoint.DisposeAsync();
        }

        _client?.Dispose();
    }
}
