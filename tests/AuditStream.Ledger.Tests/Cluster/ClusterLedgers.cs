using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Tests.Support;
using Npgsql;

namespace AuditStream.Ledger.Tests.Cluster;

/// <summary>Several instances of one PostgreSQL ledger in this process: each an <see cref="AuditLedger"/> with its own data directory and the cluster's one signing key.</summary>
internal sealed class ClusterLedgers : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new();
    private readonly List<AuditLedger> _open = [];

    private ClusterLedgers(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public string SigningKeyPath => Path.Combine(_dir.Path, "cluster-signer.key");

    public static async Task<ClusterLedgers> CreateAsync(PostgresServer server) => new(await server.CreateLedgerAsync());

    public async Task<AuditLedger> OpenAsync(string name, ClusterOptions? cluster = null, ICommitSignal? signal = null, string? signingKeyPath = null)
    {
        var options = new LedgerOptions
        {
            Provider = LedgerProvider.Postgres,
            ConnectionString = ConnectionString,
            DataDirectory = Path.Combine(_dir.Path, name),
            SigningKeyPath = signingKeyPath ?? SigningKeyPath,
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
        };
        cluster ??= new ClusterOptions();
        if (cluster.InstanceId == new ClusterOptions().InstanceId)
        {
            // Instances in one process share the default id (host and pid): give each its own.
            cluster.InstanceId = name;
        }

        var ledger = await AuditLedger.OpenAsync(options, cluster: cluster, commitSignal: signal is null ? null : _ => signal);
        _open.Add(ledger);
        return ledger;
    }

    /// <summary>Ends the leader's lease in the database, as if its holder had been paused past it (the holder is not told).</summary>
    public async Task ExpireLeaseAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("UPDATE ledger_leader SET lease_until = '-infinity'", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task CloseAsync(AuditLedger ledger)
    {
        _open.Remove(ledger);
        await ledger.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ledger in _open)
        {
            await ledger.DisposeAsync();
        }

        _dir.Dispose();
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checking after each commit the feed publishes and at least every 50 ms.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!condition())
        {
            try
            {
                await timer.WaitForNextTickAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{what}: not within {Timeout.TotalSeconds} s");
            }
        }
    }
}

/// <summary>A commit signal that never announces anything (a backplane that is down): followers must find commits by polling.</summary>
internal sealed class SilentCommitSignal : ICommitSignal
{
    public ValueTask PublishAsync(long fromSeq, long toSeq, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public IDisposable Subscribe(Action<long, long> committed) => new Nothing();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Nothing : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
