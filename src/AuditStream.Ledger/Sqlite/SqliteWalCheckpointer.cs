using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SQLitePCL;

namespace AuditStream.Ledger.Sqlite;

/// <summary>
/// Copies the ledger's write-ahead log into the database file from a connection and a task of its own, so the writer
/// never does it inside a commit.
/// </summary>
/// <remarks>
/// By default SQLite checkpoints in the connection that commits, whenever the WAL passes 1,000 pages: at 50,000 events/s
/// that is every ~100 ms, and the writer, with every producer waiting on it, spent the checkpoint writing ~4 MB into the
/// database file and fsyncing it. Here the writer reports what it committed and this task runs a PASSIVE checkpoint (it
/// never waits for readers or the writer) once about <see cref="ThresholdBytes"/> of WAL have been written (bodies plus
/// <see cref="PagesPerCommit"/> pages per commit: small commits write whole pages of the table and its indexes), or
/// after <see cref="IdleInterval"/> when less was. Small, frequent checkpoints: with 4 MB ones the checkpoint's fsync of
/// the database file, now running beside the writer's fsync of the WAL, raised single-event POST p99 at 1,000 requests/s
/// by ~1 ms; with 1 MB ones it is the same as before (docs/benchmarks.md). The writer keeps SQLite's own checkpoint only as a backstop at
/// <see cref="BackstopPages"/>, should this task fall that far behind. Durability is unchanged: a commit is durable
/// once its WAL frames are fsync'ed, whoever copies them later; this connection also runs with <c>synchronous=FULL</c>.
/// </remarks>
internal sealed partial class SqliteWalCheckpointer : IAsyncDisposable
{
    /// <summary>Estimated WAL bytes written after which a checkpoint runs (SQLite's own default is 1,000 pages).</summary>
    public const long ThresholdBytes = 1024 * 1024;

    /// <summary>Pages a commit writes besides its bodies (the events table, the id and time indexes, the subtrees).</summary>
    public const int PagesPerCommit = 4;

    /// <summary>The writer connection's own autocheckpoint, in pages (4 KiB): only reached if this task falls behind.</summary>
    public const int BackstopPages = 16_384;

    /// <summary>A WAL with less than <see cref="ThresholdBytes"/> committed is checkpointed after this long.</summary>
    public static readonly TimeSpan IdleInterval = TimeSpan.FromMilliseconds(250);

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private long _pendingBytes;
    private long _checkpoints;
    private Task? _loop;

    public SqliteWalCheckpointer(string writeConnectionString, ILogger logger)
    {
        _logger = logger;
        _connection = new SqliteConnection(writeConnectionString);
        _connection.Open();
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;";
        cmd.ExecuteNonQuery();
    }

    /// <summary>Checkpoints run since start (tests, diagnostics).</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Starts the background task.</summary>
    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Called by the writer after each commit with the size of the bodies it committed; never blocks.</summary>
    public void Committed(long bodyBytes)
    {
        var bytes = bodyBytes + (PagesPerCommit * 4096);
        var before = Interlocked.Add(ref _pendingBytes, bytes) - bytes;
        if (before < ThresholdBytes && before + bytes >= ThresholdBytes)
        {
            _wake.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _connection.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _wake.WaitAsync(IdleInterval, _stop.Token);
            if (Interlocked.Exchange(ref _pendingBytes, 0) == 0)
            {
                continue;
            }

            try
            {
                CheckpointPassive();
            }
            catch (SqliteException exception)
            {
                // The writer's backstop still bounds the WAL; try again at the next wake.
                Log.CheckpointFailed(_logger, exception);
            }
        }
    }

    private void CheckpointPassive()
    {
        var db = _connection.Handle!;
        var rc = raw.sqlite3_wal_checkpoint_v2(db, "main", raw.SQLITE_CHECKPOINT_PASSIVE, out _, out _);
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_BUSY)
        {
            throw new SqliteException($"WAL checkpoint failed: {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);
        }

        Interlocked.Increment(ref _checkpoints);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 130, EventName = "WalCheckpointFailed", Level = LogLevel.Warning, Message = "Background WAL checkpoint failed; retrying at the next one")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception);
    }
}
