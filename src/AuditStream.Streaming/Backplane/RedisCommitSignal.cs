using System.Globalization;
using AuditStream.Ledger.Feed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace AuditStream.Streaming.Backplane;

/// <summary>
/// <see cref="ICommitSignal"/> on Redis pub/sub (DESIGN.md §6): one channel per ledger (<see cref="ChannelName"/>), one
/// message per commit, <c>from-to</c> (the committed seq range, inclusive), followed, when the leader carries them, by a
/// space and the committed records (authenticated by the ledger, opaque here; older readers ignore what follows the space).
/// Best effort and at most once, like every Redis backplane: an announcement is handed to StackExchange.Redis and the
/// writer goes on; whether Redis took it within <see cref="BackplaneOptions.PublishTimeout"/> is only counted
/// (<see cref="BackplaneMetrics"/>). While Redis is unreachable announcements fail at once (no backlog), the outage is
/// logged once, and StackExchange.Redis reconnects and resubscribes by itself.
/// </summary>
public sealed partial class RedisCommitSignal : ICommitSignal
{
    /// <summary>What every channel name starts with; the ledger id follows.</summary>
    public const string ChannelPrefix = "auditstream:commits:";

    private readonly RedisChannel _channel;
    private readonly BackplaneMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly int _maxPending;
    private readonly Task<ConnectionMultiplexer?> _connection;
    private readonly Lock _handlersLock = new();
    private CommitAnnounced[] _handlers = [];
    private int _pending;
    private int _outage;
    private long _outageSince;
    private int _disposed;

    /// <summary>
    /// Starts connecting to the Redis of <paramref name="options"/> in the background (a Redis that is down at start is
    /// an outage like any other) and subscribes to the channel of <paramref name="ledgerId"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="BackplaneOptions.Redis"/> is not set, or the ledger id is empty.</exception>
    public RedisCommitSignal(BackplaneOptions options, string ledgerId, BackplaneMetrics? metrics = null, ILogger<RedisCommitSignal>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(ledgerId);
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            throw new ArgumentException($"{BackplaneOptions.RedisKey} must be set for the Redis backplane.", nameof(options));
        }

        _channel = RedisChannel.Literal(ChannelName(ledgerId));
        _metrics = metrics ?? new BackplaneMetrics();
        _logger = logger ?? NullLogger<RedisCommitSignal>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _timeout = options.PublishTimeout;
        _maxPending = options.MaxPendingPublishes;

        var configuration = ConfigurationOptions.Parse(options.Redis);

        // Keep retrying rather than fail the server; refuse commands while disconnected rather than queue stale hints.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        var milliseconds = (int)Math.Ceiling(_timeout.TotalMilliseconds);
        configuration.ConnectTimeout = milliseconds;
        configuration.AsyncTimeout = milliseconds;
        configuration.ClientName ??= "auditstream";
        _connection = ConnectAsync(configuration);
    }

    /// <summary>The channel of the ledger <paramref name="ledgerId"/>: <c>auditstream:commits:&lt;ledger id&gt;</c>.</summary>
    public static string ChannelName(string ledgerId) => ChannelPrefix + ledgerId;

    /// <summary>True while Redis is connected.</summary>
    public bool IsConnected => _connection is { IsCompletedSuccessfully: true, Result: { IsConnected: true } };

    /// <summary>Completes once the first connection attempt ended, whether it reached Redis or not (tests, start-up logs).</summary>
    public Task Started => _connection;

    /// <inheritdoc />
    public ValueTask PublishAsync(long fromSeq, long toSeq, CancellationToken cancellationToken) =>
        PublishAsync(fromSeq, toSeq, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <inheritdoc />
    /// <remarks>The message is the range, a space and the records' bytes (<see cref="TryParse(ReadOnlyMemory{byte}, out long, out long, out ReadOnlyMemory{byte})"/>).</remarks>
    public ValueTask PublishAsync(long fromSeq, long toSeq, ReadOnlyMemory<byte> records, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSeq, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(toSeq, fromSeq);
        if (Volatile.Read(ref _disposed) != 0 || cancellationToken.IsCancellationRequested)
        {
            return ValueTask.CompletedTask;
        }

        if (_connection is not { IsCompletedSuccessfully: true, Result: { IsConnected: true } connection })
        {
            Failed("not connected");
            return ValueTask.CompletedTask;
        }

        if (Interlocked.Increment(ref _pending) > _maxPending)
        {
            Interlocked.Decrement(ref _pending);
            _metrics.Counted(BackplaneMetrics.Publish, BackplaneMetrics.Results.Dropped);
            return ValueTask.CompletedTask;
        }

        Task publish;
        try
        {
            publish = connection.GetSubscriber().PublishAsync(_channel, records.IsEmpty ? Message(fromSeq, toSeq) : Message(fromSeq, toSeq, records.Span));
        }
        catch (Exception exception) when (exception is RedisException or ObjectDisposedException)
        {
            Interlocked.Decrement(ref _pending);
            Failed(exception.Message);
            return ValueTask.CompletedTask;
        }

        _ = ObservePublishAsync(publish);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public IDisposable Subscribe(Action<long, long> committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        return Subscribe((from, to, _) => committed(from, to));
    }

    /// <inheritdoc />
    public IDisposable Subscribe(CommitAnnounced committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        lock (_handlersLock)
        {
            _handlers = [.. _handlers, committed];
        }

        return new Subscription(this, committed);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (await _connection.ConfigureAwait(false) is { } connection)
        {
            connection.ConnectionFailed -= OnConnectionFailed;
            connection.ConnectionRestored -= OnConnectionRestored;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The wire form of a range: <c>from-to</c> in invariant digits.</summary>
    internal static string Message(long fromSeq, long toSeq) =>
        string.Create(CultureInfo.InvariantCulture, $"{fromSeq}-{toSeq}");

    /// <summary>The wire form of a range with the records it carries: <c>from-to</c>, a space, the records' bytes.</summary>
    internal static byte[] Message(long fromSeq, long toSeq, ReadOnlySpan<byte> records)
    {
        Span<byte> range = stackalloc byte[41];
        System.Text.Unicode.Utf8.TryWrite(range, CultureInfo.InvariantCulture, $"{fromSeq}-{toSeq} ", out var length);
        var message = new byte[length + records.Length];
        range[..length].CopyTo(message);
        records.CopyTo(message.AsSpan(length));
        return message;
    }

    /// <summary>Reads <c>from-to</c> and whatever follows the first space (the records, or nothing); false for anything else.</summary>
    internal static bool TryParse(ReadOnlyMemory<byte> message, out long fromSeq, out long toSeq, out ReadOnlyMemory<byte> records)
    {
        var space = message.Span.IndexOf((byte)' ');
        records = space < 0 ? ReadOnlyMemory<byte>.Empty : message[(space + 1)..];
        var range = space < 0 ? message.Span : message.Span[..space];
        fromSeq = toSeq = 0;
        var dash = range.IndexOf((byte)'-');
        return dash > 0
            && long.TryParse(range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out fromSeq)
            && long.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out toSeq)
            && fromSeq >= 1 && toSeq >= fromSeq;
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync(ConfigurationOptions configuration)
    {
        ConnectionMultiplexer connection;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever StackExchange.Redis throws, the server runs on without the backplane.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ConnectFailed(_logger, _channel.ToString(), exception);
            return null;
        }

        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;
        _metrics.ObserveConnected(() => connection.IsConnected);
        if (!connection.IsConnected)
        {
            NoteOutage("not reachable at start");
        }

        await SubscribeAsync(connection).ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// Subscribes once. StackExchange.Redis keeps the subscription, even one whose first attempt failed because Redis was
    /// down, and renews it on every reconnect (RedisCommitSignalTests checks both, and that it does not deliver twice).
    /// </summary>
    private async Task SubscribeAsync(ConnectionMultiplexer connection)
    {
        try
        {
            await connection.GetSubscriber().SubscribeAsync(_channel, OnMessage).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Redis is down: the outage is already noted, and the subscription is renewed when it is back.
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        if (!TryParse((byte[]?)value ?? [], out var from, out var to, out var records))
        {
            _metrics.Counted(BackplaneMetrics.Receive, BackplaneMetrics.Results.Invalid);
            return;
        }

        _metrics.Counted(BackplaneMetrics.Receive, BackplaneMetrics.Results.Ok);
        foreach (var handler in Volatile.Read(ref _handlers))
        {
            try
            {
                handler(from, to, records);
            }
#pragma warning disable CA1031 // One subscriber's bug must not stop the others or StackExchange.Redis's reader.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.SubscriberFailed(_logger, exception);
            }
        }
    }

    private async Task ObservePublishAsync(Task publish)
    {
        try
        {
            await publish.WaitAsync(_timeout, _time).ConfigureAwait(false);
            _metrics.Counted(BackplaneMetrics.Publish, BackplaneMetrics.Results.Ok);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            Failed(exception.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    private void Failed(string reason)
    {
        _metrics.Counted(BackplaneMetrics.Publish, BackplaneMetrics.Results.Failed);
        NoteOutage(reason);
    }

    private void NoteOutage(string reason)
    {
        if (Interlocked.CompareExchange(ref _outage, 1, 0) == 0)
        {
            Volatile.Write(ref _outageSince, _time.GetTimestamp());
            Log.Unreachable(_logger, _channel.ToString(), reason);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        NoteOutage($"{e.FailureType} on the {e.ConnectionType} connection to {e.EndPoint}");

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (sender is ConnectionMultiplexer { IsConnected: true } && Interlocked.CompareExchange(ref _outage, 0, 1) == 1)
        {
            Log.Reconnected(_logger, _channel.ToString(), _time.GetElapsedTime(Volatile.Read(ref _outageSince)).TotalSeconds);
        }
    }

    private void Unsubscribe(CommitAnnounced committed)
    {
        lock (_handlersLock)
        {
            var index = Array.IndexOf(_handlers, committed);
            if (index >= 0)
            {
                _handlers = [.. _handlers[..index], .. _handlers[(index + 1)..]];
            }
        }
    }

    private sealed class Subscription(RedisCommitSignal signal, CommitAnnounced committed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                signal.Unsubscribe(committed);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "BackplaneUnreachable", Level = LogLevel.Warning,
            Message = "Redis backplane unreachable ({Reason}); commits on {Channel} are not announced until it is back, and followers wake by polling the ledger meanwhile (nothing is lost)")]
        public static partial void Unreachable(ILogger logger, string channel, string reason);

        [LoggerMessage(EventId = 2, EventName = "BackplaneReconnected", Level = LogLevel.Information,
            Message = "Redis backplane reconnected after {Seconds:F1} s; announcing commits on {Channel} again")]
        public static partial void Reconnected(ILogger logger, string channel, double seconds);

        [LoggerMessage(EventId = 3, EventName = "BackplaneConnectFailed", Level = LogLevel.Error,
            Message = "Redis backplane for {Channel} could not be set up; running without it (followers wake by polling the ledger)")]
        public static partial void ConnectFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 4, EventName = "BackplaneSubscriberFailed", Level = LogLevel.Error,
            Message = "A commit signal subscriber threw; the others were still called")]
        public static partial void SubscriberFailed(ILogger logger, Exception exception);
    }
}
