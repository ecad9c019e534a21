using System.Globalization;
using System.Threading.Channels;
using AuditStream.Ledger.Feed;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// <see cref="ICommitSignal"/> on PostgreSQL LISTEN/NOTIFY, for clusters without a Redis backplane: one NOTIFY per commit
/// batch with the payload <c>from-to</c>, on a channel named after the ledger's schema (several ledgers may share one
/// database). One connection listens and reconnects when it breaks; announcements sent meanwhile are lost, which the
/// follower's polling covers.
/// </summary>
public sealed partial class PostgresCommitSignal : ICommitSignal
{
    // Announcements waiting to be sent; beyond this the oldest are dropped (the follower polls anyway).
    private const int MaxPending = 1_024;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<(long From, long To)> _outbox =
        Channel.CreateBounded<(long, long)>(new BoundedChannelOptions(MaxPending) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private Action<long, long>[] _subscribers = [];
    private string? _channel;
    private Task? _listening;
    private Task? _sending;
    private long _sent;
    private long _received;
    private long _failures;

    /// <summary>Creates the signal for the ledger of <paramref name="connectionString"/>; <see cref="StartAsync"/> connects it.</summary>
    public PostgresCommitSignal(string connectionString, TimeProvider? timeProvider = null, ILogger<PostgresCommitSignal>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "auditstream-signal";
        _dataSource = builder.Build();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresCommitSignal>.Instance;
    }

    /// <summary>Announcements sent, received (own included) and failed sends or listens, for metrics and tests.</summary>
    public (long Sent, long Received, long Failures) Counts => (Interlocked.Read(ref _sent), Interlocked.Read(ref _received), Interlocked.Read(ref _failures));

    /// <summary>Names the channel and starts listening and sending; completes once the first LISTEN is in place.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var cmd = _dataSource.CreateCommand("SELECT current_schema()"))
        {
            var schema = (string?)await cmd.ExecuteScalarAsync(cancellationToken) ?? "public";
            _channel = ChannelName(schema);
        }

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _listening = Task.Run(() => ListenAsync(listening), CancellationToken.None);
        _sending = Task.Run(SendAsync, CancellationToken.None);
        await listening.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(long fromSeq, long toSeq, CancellationToken cancellationToken)
    {
        _outbox.Writer.TryWrite((fromSeq, toSeq));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public IDisposable Subscribe(Action<long, long> committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        lock (_lock)
        {
            _subscribers = [.. _subscribers, committed];
        }

        return new Subscription(this, committed);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _outbox.Writer.TryComplete();
        await _stop.CancelAsync();
        foreach (var task in new[] { _listening, _sending })
        {
            if (task is not null)
            {
                await task;
            }
        }

        await _dataSource.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>The NOTIFY channel of a ledger in <paramref name="schema"/>: an identifier of at most 63 bytes.</summary>
    internal static string ChannelName(string schema)
    {
        var name = "auditstream_commits_" + schema;
        return name.Length <= 63 ? name : name[..63];
    }

    private async Task SendAsync()
    {
        await foreach (var (from, to) in _outbox.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await using var cmd = _dataSource.CreateCommand("SELECT pg_notify(@channel, @payload)");
                cmd.Parameters.AddWithValue("channel", _channel!);
                cmd.Parameters.AddWithValue("payload", string.Create(CultureInfo.InvariantCulture, $"{from}-{to}"));
                await cmd.ExecuteNonQueryAsync(_stop.Token);
                Interlocked.Increment(ref _sent);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                Interlocked.Increment(ref _failures);
                Log.SendFailed(_logger, ex, from, to);
            }
        }
    }

    private async Task ListenAsync(TaskCompletionSource firstListen)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
                connection.Notification += OnNotification;
                await using (var cmd = new NpgsqlCommand($"LISTEN \"{_channel}\"", connection))
                {
                    await cmd.ExecuteNonQueryAsync(_stop.Token);
                }

                firstListen.TrySetResult();
                delay = TimeSpan.FromMilliseconds(100);
                while (true)
                {
                    await connection.WaitAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                firstListen.TrySetCanceled();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                // Reconnect with a growing pause (0.1 s to 2 s); commits announced meanwhile are found by polling.
                Interlocked.Increment(ref _failures);
                Log.ListenFailed(_logger, ex, delay.TotalSeconds);
                firstListen.TrySetResult();
            }

            try
            {
                await Task.Delay(delay, _time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var dash = e.Payload.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0
            || !long.TryParse(e.Payload.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !long.TryParse(e.Payload.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var to))
        {
            return;
        }

        Interlocked.Increment(ref _received);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber(from, to);
        }
    }

    private void Unsubscribe(Action<long, long> committed)
    {
        lock (_lock)
        {
            _subscribers = [.. _subscribers.Where(s => s != committed)];
        }
    }

    private sealed class Subscription(PostgresCommitSignal signal, Action<long, long> committed) : IDisposable
    {
        public void Dispose() => signal.Unsubscribe(committed);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 150, EventName = "CommitSignalSendFailed", Level = LogLevel.Warning, Message = "Announcing commits {From}-{To} by NOTIFY failed; followers find them by polling")]
        public static partial void SendFailed(ILogger logger, Exception exception, long from, long to);

        [LoggerMessage(EventId = 151, EventName = "CommitSignalListenFailed", Level = LogLevel.Warning, Message = "Listening for commit announcements failed; reconnecting in {Seconds} s (followers poll meanwhile)")]
        public static partial void ListenFailed(ILogger logger, Exception exception, double seconds);
    }
}
