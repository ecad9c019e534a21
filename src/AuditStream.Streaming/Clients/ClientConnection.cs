using System.Net.WebSockets;
using System.Threading.Channels;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// One stream client (DESIGN.md §5): a cursor over the committed feed that filters and enqueues frames, a bounded queue,
/// one loop that writes the queue to the transport (WebSocket or Server-Sent Events), and the answers to client messages.
/// Nothing that produces frames awaits the transport: a live client whose queue is full is closed with 4008 <c>slow_consumer</c>.
/// </summary>
internal sealed partial class ClientConnection : IDisposable
{
    private readonly IClientTransport _transport;
    private readonly ClientRequest _request;
    private readonly HubOptions _options;
    private readonly PublishedFrameCache _frames;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<StreamFrame> _outbound;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource<int> _closeRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Held while a frame's filter decision and its enqueue happen, so a filter change and its ack are ordered with events.
    private readonly Lock _gate = new();
    private readonly bool _maskPii;
    private CompiledFilter _filter;
    private CancellationTokenSource? _cursorCancel;
    private Task _cursor = Task.CompletedTask;
    private int _closeStatus;
    private string _closeDescription = "";
    private volatile bool _stopWriting;

    // Live events skipped by the rate limit and not yet announced (guarded by _gate): one audit.stream.gap per window.
    private readonly DeliveryRateLimit _rateLimit;
    private readonly InboundRateLimit _inbound;
    private readonly Action<string, string?>? _recordActivity;
    private ITimer? _gapTimer;
    private bool _gapPending;
    private long _gapFrom;
    private long _gapTo;
    private volatile bool _disposed;

    public ClientConnection(string id, IClientTransport transport, ClientRequest request, HubOptions options, PublishedFrameCache frames, TimeProvider time, ILogger logger, Action<string, string?>? recordActivity = null)
    {
        Id = id;
        _recordActivity = recordActivity;
        _transport = transport;
        _request = request;
        _options = options;
        _frames = frames;
        _time = time;
        _logger = logger;
        _maskPii = !request.Scope.CanReadPii;
        _filter = CompiledFilter.Compile(request.Filter, time);
        _rateLimit = new DeliveryRateLimit(options.RateLimitPerSecond, options.RateLimitPerMinute, time);
        _inbound = new InboundRateLimit(options.MaxInboundMessagesPerSecond, options.MaxInboundViolations, time);
        _outbound = Channel.CreateBounded<StreamFrame>(new BoundedChannelOptions(options.ClientBufferSize)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Id { get; }

    /// <summary>Completes with the close code once the server decided to close this client (4008, 1001…).</summary>
    public Task<int> CloseRequested => _closeRequested.Task;

    public async Task RunAsync(CancellationToken stopping)
    {
        var feed = _request.Feed;
        var lastSeq = feed.LastSeq;
        Enqueue(ServerMessages.Established(Id, _request.Scope.Role, _time.GetUtcNow(), lastSeq, _request.Filter, _options));
        var writer = WriteLoopAsync();
        StartCursor(_request.SinceSeq is { } since ? Math.Min(since, lastSeq) : lastSeq, _request.SinceSeq is null ? null : lastSeq);

        using (stopping.Register(static state => ((ClientConnection)state!).RequestClose(StreamCloseCodes.GoingAway, StreamCloseCodes.GoingAwayDescription), this))
        {
            await _transport.ReceiveAsync(this, _abort.Token);

            await StopCursorAsync();
            _outbound.Writer.TryComplete();
            if (Volatile.Read(ref _closeStatus) == 0)
            {
                // The client closed first: it wants no more frames.
                _stopWriting = true;
                _abort.CancelAfter(_options.CloseTimeout);
            }

            await writer;
            await _transport.CompleteAsync(_abort.Token);
        }
    }

    /// <summary>Closes the client with <paramref name="status"/> after the frames already queued; the first request wins.</summary>
    public void RequestClose(int status, string description)
    {
        lock (_gate)
        {
            if (_closeStatus != 0)
            {
                return;
            }

            _closeStatus = status;
            _closeDescription = description;
        }

        _closeRequested.TrySetResult(status);
        _outbound.Writer.TryComplete();
        try
        {
            _abort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _gapTimer?.Dispose();
        _cursorCancel?.Dispose();
        _abort.Dispose();
    }

    /// <summary>
    /// Counts one message read by the transport against <see cref="HubOptions.MaxInboundMessagesPerSecond"/>; false means
    /// the transport must drop it (the client was told, or is being closed for persistent abuse).
    /// </summary>
    internal bool AdmitInbound()
    {
        switch (_inbound.Admit())
        {
            case InboundVerdict.Accept:
                return true;
            case InboundVerdict.Warn:
                Enqueue(ServerMessages.Error(
                    StreamErrorCodes.RateLimited,
                    $"At most {_options.MaxInboundMessagesPerSecond} messages per second; the rest of this second's messages are ignored.",
                    null));
                return false;
            case InboundVerdict.Close:
                RequestClose(StreamCloseCodes.PolicyViolation, StreamCloseCodes.PolicyViolationDescription);
                return false;
            default:
                return false;
        }
    }

    /// <summary>Answers a client message read by the transport.</summary>
    internal Task HandleAsync(ReadOnlySpan<byte> json) => HandleAsync(ClientMessage.Parse(json, _options.MaxFiltersPerClient));

    /// <summary>Queues an answer to the client (an error about its message).</summary>
    internal void Reply(StreamFrame frame) => Enqueue(frame);

    private async Task HandleAsync(ClientMessage message)
    {
        switch (message.Kind)
        {
            case ClientMessageKind.Ping:
                Enqueue(ServerMessages.Pong(_time.GetUtcNow()));
                break;
            case ClientMessageKind.UpdateFilters:
                var compiled = CompiledFilter.Compile(message.Filter!, _time);
                lock (_gate)
                {
                    _filter = compiled;
                    Enqueue(ServerMessages.FiltersUpdated(compiled.Filter));
                }

                _recordActivity?.Invoke(StreamActivityKinds.FiltersUpdated, $"{FilterValidator.CountValues(compiled.Filter)} filter values");

                break;
            case ClientMessageKind.Resume:
                await StopCursorAsync();
                var lastSeq = _request.Feed.LastSeq;
                StartCursor(Math.Min(message.SinceSeq, lastSeq), lastSeq);
                break;
            default:
                Enqueue(ServerMessages.Error(message.ErrorCode!, message.ErrorMessage!, message.ErrorField));
                break;
        }
    }

    /// <summary>Queues a control frame; a full queue means the client is not reading.</summary>
    private void Enqueue(StreamFrame frame)
    {
        if (!_outbound.Writer.TryWrite(frame))
        {
            SlowConsumer();
        }
    }

    private void SlowConsumer()
    {
        if (Volatile.Read(ref _closeStatus) == 0)
        {
            Log.SlowConsumer(_logger, Id, _options.ClientBufferSize);
            RequestClose(StreamCloseCodes.SlowConsumer, StreamCloseCodes.SlowConsumerDescription);
            _recordActivity?.Invoke(StreamActivityKinds.SlowConsumer, $"queue of {_options.ClientBufferSize} frames full");
        }
    }

    private void StartCursor(long afterSeq, long? caughtUpAt)
    {
        _cursorCancel?.Dispose();
        _cursorCancel = new CancellationTokenSource();
        _cursor = RunCursorAsync(afterSeq, caughtUpAt, _cursorCancel.Token);
    }

    private async Task StopCursorAsync()
    {
        if (_cursorCancel is { } cancel)
        {
            await cancel.CancelAsync();
        }

        await _cursor;
    }

    /// <summary>
    /// Reads the feed after <paramref name="afterSeq"/>. Until <paramref name="caughtUpAt"/> (a replay) it waits for queue
    /// space, so a replay goes at the client's pace; then it announces <c>audit.stream.caught_up</c> and is live, where a
    /// full queue closes the client. Seq order, no gap, no duplicate: one cursor reads the feed in order.
    /// </summary>
    private async Task RunCursorAsync(long afterSeq, long? caughtUpAt, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var live = caughtUpAt is null;
            if (!_request.Scope.Receives(MessageKind.AuditEvent))
            {
                // Nothing to replay or follow for this role: only its own connection messages.
                if (!live)
                {
                    await EnqueueWaitingAsync(ServerMessages.CaughtUp(caughtUpAt!.Value), cancellationToken);
                }

                return;
            }

            if (!live && afterSeq >= caughtUpAt)
            {
                if (!await EnqueueWaitingAsync(ServerMessages.CaughtUp(caughtUpAt!.Value), cancellationToken))
                {
                    return;
                }

                live = true;
            }

            await foreach (var record in _request.Feed.ReadAsync(afterSeq + 1, cancellationToken))
            {
                if (_request.Scope.CanSee(record.Event) && !await DeliverAsync(record, live, cancellationToken))
                {
                    return;
                }

                if (!live && record.Seq == caughtUpAt)
                {
                    if (!await EnqueueWaitingAsync(ServerMessages.CaughtUp(record.Seq), cancellationToken))
                    {
                        return;
                    }

                    live = true;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
        }
#pragma warning disable CA1031 // A failing cursor must close its client, not crash the host.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.CursorFailed(_logger, Id, exception);
            RequestClose((int)WebSocketCloseStatus.InternalServerError, "internal_error");
        }
    }

    private async ValueTask<bool> DeliverAsync(LedgerRecord record, bool live, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_gate)
            {
                if (!_filter.Matches(record.Event))
                {
                    return true;
                }

                if (live && _rateLimit.Enabled)
                {
                    if (!_rateLimit.TryTake())
                    {
                        SkipLocked(record.Seq);
                        return true;
                    }

                    if (!AnnounceGapLocked())
                    {
                        return false;
                    }
                }

                if (_outbound.Writer.TryWrite(_frames.Get(record, _maskPii)))
                {
                    return true;
                }
            }

            if (live)
            {
                SlowConsumer();
                return false;
            }

            if (!await _outbound.Writer.WaitToWriteAsync(cancellationToken))
            {
                return false;
            }
        }
    }

    /// <summary>Adds a live seq over the rate limit to the pending gap; the first one arms the announcement at the window's end.</summary>
    private void SkipLocked(long seq)
    {
        if (!_gapPending)
        {
            _gapPending = true;
            _gapFrom = seq;
            _gapTimer ??= _time.CreateTimer(static state => ((ClientConnection)state!).OnWindowEnd(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _gapTimer.Change(_rateLimit.UntilWindowEnds(), Timeout.InfiniteTimeSpan);
        }

        _gapTo = seq;
    }

    /// <summary>Queues the pending <c>audit.stream.gap</c>, if any; false when the queue is full (the client is then closed).</summary>
    private bool AnnounceGapLocked()
    {
        if (!_gapPending)
        {
            return true;
        }

        _gapPending = false;
        if (_outbound.Writer.TryWrite(ServerMessages.Gap(_gapFrom, _gapTo, StreamGapReasons.RateLimited)))
        {
            return true;
        }

        SlowConsumer();
        return false;
    }

    private void OnWindowEnd()
    {
        if (_disposed)
        {
            return;
        }

        lock (_gate)
        {
            if (Volatile.Read(ref _closeStatus) == 0)
            {
                AnnounceGapLocked();
            }
        }
    }

    private async ValueTask<bool> EnqueueWaitingAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        while (!_outbound.Writer.TryWrite(frame))
        {
            if (!await _outbound.Writer.WaitToWriteAsync(cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token))
            {
                while (!_stopWriting && reader.TryRead(out var frame))
                {
                    await _transport.SendAsync(frame, _abort.Token);
                }

                if (_stopWriting)
                {
                    return;
                }

                await _transport.FlushAsync(_abort.Token);
            }

            if (Volatile.Read(ref _closeStatus) is var status and not 0)
            {
                await _transport.CloseAsync(status, _closeDescription, _abort.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Aborted after the close timeout, or the peer went away.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "SlowConsumer", Level = LogLevel.Warning,
            Message = "Stream client {ClientId} did not keep up ({BufferSize} frames queued); closing with 4008 slow_consumer")]
        public static partial void SlowConsumer(ILogger logger, string clientId, int bufferSize);

        [LoggerMessage(EventId = 2, EventName = "CursorFailed", Level = LogLevel.Error, Message = "Stream client {ClientId} failed reading the committed feed")]
        public static partial void CursorFailed(ILogger logger, string clientId, Exception exception);
    }
}
