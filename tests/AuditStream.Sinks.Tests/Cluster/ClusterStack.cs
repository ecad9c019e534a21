using AuditStream.Ledger;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Support;
using AuditStream.Sinks.Webhook;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Sinks.Tests.Cluster;

/// <summary>
/// One instance's sink stack on a shared PostgreSQL database: its own state store (its own connection pool) and a runner
/// of the webhook sink <c>hook</c> under its own lease holder id. The instances of a test share one ledger (the follower
/// that lets each instance's feed follow another's commits belongs to the cluster work).
/// </summary>
internal sealed class ClusterStack : IAsyncDisposable
{
    public const string SinkName = "hook";

    private readonly HttpClient _client;

    private ClusterStack(string id, HttpClient client, PostgresSinkStateStore state, SinkRunner runner)
    {
        Id = id;
        _client = client;
        State = state;
        Runner = runner;
    }

    public string Id { get; }

    public PostgresSinkStateStore State { get; }

    public SinkRunner Runner { get; }

    /// <summary>
    /// Starts instance <paramref name="id"/>: batches of <paramref name="batchSize"/> sent at once to the receiver's
    /// <c>/hook?instance={id}</c> (so a test can tell who sent what), leased for <paramref name="lease"/>, its runner on
    /// <paramref name="time"/> (default: the system clock).
    /// </summary>
    public static async Task<ClusterStack> StartAsync(
        string id, string database, AuditLedger ledger, FakeReceiver receiver, TimeSpan lease, int batchSize = 50, TimeProvider? time = null)
    {
        var state = await PostgresSinkStateStore.OpenAsync(database);
        var options = new WebhookOptions
        {
            Name = SinkName,
            Url = new Uri(receiver.BaseAddress, $"hook?instance={id}"),
            MaxBatchSize = batchSize,
            Linger = TimeSpan.Zero,
        };

        // A request held by the receiver must stay in flight, not time out and go again.
        options.Resilience.AttemptTimeout = TimeSpan.FromMinutes(2);
        var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var runner = new SinkRunner(
            new WebhookSink(options, client, TimeProvider.System), options, ledger, state, time ?? TimeProvider.System, NullLogger.Instance, new LeaseHolder(id, lease));
        runner.Start();
        return new ClusterStack(id, client, state, runner);
    }

    /// <summary>The ledger the instances of a test share, in <paramref name="database"/> (keys in <paramref name="directory"/>).</summary>
    public static Task<AuditLedger> OpenLedgerAsync(string database, string directory) => AuditLedger.OpenAsync(new LedgerOptions
    {
        Provider = LedgerProvider.Postgres,
        ConnectionString = database,
        DataDirectory = directory,
        CheckpointInterval = TimeSpan.FromMinutes(5),
    });

    /// <summary>Ends the instance as a kill does: no more renewals, no release; its lease runs out by itself.</summary>
    public Task KillAsync() => Runner.AbandonAsync();

    public async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync();
        await State.DisposeAsync();
        _client.Dispose();
    }
}
