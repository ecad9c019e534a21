using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Writing;
using AuditStream.Server.Hosting;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Configuration;
using AuditStream.Sinks.Datadog;
using AuditStream.Sinks.Elasticsearch;
using AuditStream.Sinks.PagerDuty;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Slack;
using AuditStream.Sinks.Webhook;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Sinks;

/// <summary>
/// Starts every enabled sink and the alert rules once the ledger is open, each a cursor with its position in
/// <c>{DataDirectory}/sinks.db</c> (SQLite) or in the ledger's database (PostgreSQL, where each runs on the one instance
/// holding its lease), and stops them before the ledger closes (it is registered after <see cref="LedgerService"/>).
/// </summary>
internal sealed class SinksService(
    IOptions<SinksOptions> options,
    IOptions<LedgerOptions> ledgerOptions,
    IOptions<ClusterOptions> clusterOptions,
    LedgerService ledgers,
    IEventAppender appender,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly List<SinkRunner> _runners = [];
    private HttpClient? _client;
    private ISinkStateStore? _state;
    private AlertEvaluator? _alerts;
    private SinkLagWatch? _lagWatch;
    private SinkMetrics? _metrics;

    /// <summary>The running sinks.</summary>
    public IReadOnlyList<SinkRunner> Runners => _runners;

    /// <summary>The dead letters and positions store, once started.</summary>
    public ISinkStateStore State => _state ?? throw new InvalidOperationException("Sinks are not started yet.");

    /// <summary>The alert evaluator, when rules are configured.</summary>
    public AlertEvaluator? Alerts => _alerts;

    public SinkRunner? Find(string name) => _runners.Find(r => r.Name == name);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var sinks = Create(options.Value).ToList();
        var rules = options.Value.Alerts;
        if (sinks.Count == 0 && !(rules.Enabled && rules.Rules.Count > 0))
        {
            return;
        }

        _state = await SinkStateStores.OpenAsync(ledgerOptions.Value, time, cancellationToken);
        var holder = new LeaseHolder(clusterOptions.Value.InstanceId, options.Value.LeaseDuration);
        var ledger = ledgers.Ledger;
        foreach (var (sink, sinkOptions) in sinks)
        {
            var runner = new SinkRunner(sink, sinkOptions, ledger, _state, time, loggerFactory.CreateLogger("AuditStream.Sinks." + sink.Kind), holder);
            _runners.Add(runner);
            runner.Start();
        }

        if (rules.Enabled && rules.Rules.Count > 0)
        {
            _alerts = new AlertEvaluator(rules, ledger, _state, time, loggerFactory.CreateLogger<AlertEvaluator>(), holder, appender);
            _alerts.Start();
        }

        if (rules.Enabled && rules.SinkLag.Enabled && _runners.Count > 0)
        {
            _lagWatch = new SinkLagWatch(rules.SinkLag, _runners, appender, time, loggerFactory.CreateLogger<SinkLagWatch>());
            _lagWatch.Start();
        }

        _metrics = new SinkMetrics(
            _runners,
            () => (_alerts?.Fired ?? 0) + (_lagWatch?.Fired ?? 0),
            () => (_alerts?.Resolved ?? 0) + (_lagWatch?.Resolved ?? 0));
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        _metrics?.Dispose();
        _metrics = null;
        if (Interlocked.Exchange(ref _lagWatch, null) is { } lagWatch)
        {
            await lagWatch.DisposeAsync();
        }

        foreach (var runner in _runners)
        {
            await runner.DisposeAsync();
        }

        _runners.Clear();
        if (Interlocked.Exchange(ref _alerts, null) is { } alerts)
        {
            await alerts.DisposeAsync();
        }

        if (Interlocked.Exchange(ref _state, null) is { } state)
        {
            await state.DisposeAsync();
        }

        _client?.Dispose();
        _client = null;
    }

    private IEnumerable<(IAuditSink Sink, SinkOptions Options)> Create(SinksOptions all)
    {
        if (all.Elasticsearch.Enabled)
        {
            yield return (new ElasticsearchSink(all.Elasticsearch, Client(), time) { SubjectKeys = new LedgerSubjectKeys(ledgers) }, all.Elasticsearch);
        }

        if (all.Datadog.Enabled)
        {
            yield return (new DatadogSink(all.Datadog, Client(), time) { SubjectKeys = new LedgerSubjectKeys(ledgers) }, all.Datadog);
        }

        if (all.Slack.Enabled)
        {
            yield return (new SlackSink(all.Slack, Client(), time) { SubjectKeys = new LedgerSubjectKeys(ledgers) }, all.Slack);
        }

        if (all.PagerDuty.Enabled)
        {
            yield return (new PagerDutySink(all.PagerDuty, Client(), time) { SubjectKeys = new LedgerSubjectKeys(ledgers) }, all.PagerDuty);
        }

        foreach (var webhook in all.Webhooks.Where(static w => w.Enabled))
        {
            yield return (new WebhookSink(webhook, Client(), time) { SubjectKeys = new LedgerSubjectKeys(ledgers) }, webhook);
        }
    }

    /// <summary>One connection pool for every sink; timeouts come from each sink's resilience pipeline.</summary>
    private HttpClient Client() => _client ??= new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        AutomaticDecompression = System.Net.DecompressionMethods.All,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
