using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// One stream client (DESIGN.md §5): a bounded <see cref="FrameQueue"/>, one loop that writes it to the transport
/// (WebSocket or Server-Sent Events) several frames per socket write, and the answers to client messages. Events reach
/// the queue two ways: while the client replays (<c>since_seq</c>, <c>resume</c>, a past time range) its own cursor reads
/// the committed feed at the client's pace; once it has caught up it joins the hub's <see cref="FanOut"/>, which offers
/// it each live event it may want and never waits for it: a live client whose queue is full is closed with 4008
/// <c>slow_consumer</c>.
/// </summary>
internal sealed partial class ClientConnection : IFanOutClient, IDisposable
{
    // Frames taken from the queue per transport write; the socket write is one syscall for all of them.
    private const int MaxFramesPerWrite = 512;

    private readonly IClientTransport _transport;
    private readonly ClientRequest _request;
    private readonly HubOptions _options;
    private readonly FanOut _fanOut;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FrameQueue _queue;
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

    // The last seq the replay cursor has dealt with (delivered or filtered out), for the resume hint of a 1001 close.
    private long _cursorPosition;

    // Set while the client's resume named another ledger: nothing is streamed and a 1001 close gives no seq to resume at.
    private volatile bool _otherLedger;

    // Live events skipped by the rate limit and not yet announced (guarded by _gate): one audit.stream.gap per window.
    private readonly DeliveryRateLimit _rateLimit;
    private readonly InboundRateLimit _inbound;
    private readonly Action<string, string?>? _recordActivity;
    private ITimer? _gapTimer;
    private bool _gapPending;
    private long _gapFrom;
    private long _gapTo;
    private volatile bool _disposed;

    private readonly HubMetrics? _metrics;
    private long _delivered;
    private long _dropped;
    private long _lastActivityTicks;

    public ClientConnection(string id, IClientTransport transport, ClientRequest request, HubOptions options, FanOut fanOut, TimeProvider time, ILogger logger, Action<string, string?>? recordActivity = null, HubMetrics? metrics = null)
    {
        _metrics = metrics;
        Id = id;
        _recordActivity = recordActivity;
        _transport = transport;
        _request = request;
        _options = options;
        _fanOut = fanOut;
        _time = time;
        _logger = logger;
        _maskPii = !request.Scope.CanReadPii;
        _filter = CompiledFilter.Compile(request.Filter, time);
        _rateLimit = new DeliveryRateLimit(options.RateLimitPerSecond, options.RateLimitPerMinute, time);
        _inbound = new InboundRateLimit(options.MaxInboundMessagesPerSecond, options.MaxInboundViolations, time);
        _queue = new FrameQueue(options.ClientBufferSize);
        ConnectedAt = time.GetUtcNow();
        _lastActivityTicks = ConnectedAt.UtcTicks;
    }

    public string Id { get; }

    /// <summary>What the client asked for when it connected (scope, filters, since_seq, address).</summary>
    public ClientRequest Request => _request;

    /// <summary><c>websocket</c> or <c>sse</c>.</summary>
    public string TransportName => _transport.Name;

    /// <summary>When the client was admitted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>The client's role and tenant.</summary>
    public AccessScope Scope => _request.Scope;

    /// <summary>The filter in force (changed under the fan-out's lock and <c>_gate</c>).</summary>
    public CompiledFilter Filter => _filter;

    /// <summary>Completes with the close code once the server decided to close this client (4008, 1001…).</summary>
    public Task<int> CloseRequested => _closeRequested.Task;

    /// <summary>Frames queued and not yet written.</summary>
    public int QueueDepth => _queue.Count;

    /// <summary>Audit events (and alerts) written to the client.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Audit events the client was not sent: skipped by its rate limit, or queued when it was closed as a slow consumer.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>When the client last sent a message or was written to.</summary>
    public DateTimeOffset LastActivity => new(Volatile.Read(ref _lastActivityTicks), TimeSpan.Zero);

    // Fan-out bookkeeping (IFanOutClient), touched only under the fan-out's lock or by its dispatch loop.
    public SubscriptionIndex.Registration? Subscription { get; set; }

    public long IndexStamp { get; set; }

    public long LiveAfter { get; set; }

    public bool SignalPending { get; set; }

    /// <summary>
    /// Runs the client until it closes: <paramref name="stopping"/> closes it with 1001 (the server stops);
    /// <paramref name="clientGone"/> (the request ended) means the peer left, as when it closes the socket itself.
    /// </summary>
    public async Task RunAsync(CancellationToken stopping, CancellationToken clientGone = default)
    {
        var feed = _request.Feed;
        var lastSeq = feed.LastSeq;
        Enqueue(ServerMessages.Established(Id, _request.Scope.Role, _time.GetUtcNow(), lastSeq, _request.LedgerId, _request.Filter, _options));
        using var abortQueue = _abort.Token.Register(static state => ((FrameQueue)state!).Abort(), _queue);
        var writer = WriteLoopAsync();
        if (!RefusedForOtherLedger(_request.ResumeLedgerId))
        {
            StartCursor(_request.SinceSeq is { } since ? Math.Min(since, lastSeq) : lastSeq, _request.SinceSeq is null ? null : lastSeq);
        }

        using (stopping.Register(static state => ((ClientConnection)state!).RequestClose(StreamCloseCodes.GoingAway, StreamCloseCodes.GoingAwayDescription), this))
        {
            try
            {
                using var receiving = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token, clientGone);
                await _transport.ReceiveAsync(this, receiving.Token);
            }
            finally
            {
                await StopCursorAsync();
                _fanOut.Leave(this);
            }

            _queue.Complete();
            if (Volatile.Read(ref _closeStatus) == 0)
            {
                // The client closed first: it wants no more frames.
                _stopWriting = true;
                _queue.Abort();
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
            _closeDescription = status == StreamCloseCodes.GoingAway && !_otherLedger
                ? ServerMessages.GoingAwayHint(description, ResumeSeqLocked(), _request.LedgerId)
                : description;
        }

        _closeRequested.TrySetResult(status);
        _queue.Complete();
        try
        {
            _abort.CancelAfter(_options.CloseTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// A seq the client can resume after (<c>since_seq</c>) and lose nothing: every seq up to it was offered to this
    /// client and, since the close takes no more frames, everything queued by then is written before the close frame.
    /// </summary>
    private long ResumeSeqLocked() => Subscription is not null ? _fanOut.DispatchedSeq : Volatile.Read(ref _cursorPosition);

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
        Volatile.Write(ref _lastActivityTicks, _time.GetUtcNow().UtcTicks);
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

    /// <summary>
    /// Offers one committed record: queues its frame if the client may see it and its filter wants it. Live offers
    /// (<paramref name="live"/>) count against the rate limit; a full queue is reported, not waited for.
    /// With <paramref name="signal"/> false the write loop is woken later by <see cref="FrameQueue.Signal"/>.
    /// </summary>
    public OfferResult Offer(RecordFrames record, bool live, bool signal)
    {
        var e = record.Record.Event;
        lock (_gate)
        {
            if (_closeStatus != 0)
            {
                return OfferResult.Skipped;
            }

            StreamFrame frame;
            if (record.AlertKind is { } kind)
            {
                // Alerts are few and matter: the role, tenant and attribute rules decide, not the event filters or the rate limit.
                if (!_request.Scope.Receives(kind) || !_request.Scope.CoversTenant(e.TenantId) || !_request.Scope.PassesRules(e))
                {
                    return OfferResult.Skipped;
                }

                frame = record.Alert();
            }
            else
            {
                if (!_request.Scope.CanSee(e) || !_filter.Matches(e))
                {
                    _metrics?.Filtered();
                    return OfferResult.Filtered;
                }

                if (live && _rateLimit.Enabled)
                {
                    if (!_rateLimit.TryTake())
                    {
                        SkipLocked(record.Record.Seq);
                        Interlocked.Increment(ref _dropped);
                        _metrics?.Dropped(HubMetrics.DropReasons.RateLimited);
                        return OfferResult.Skipped;
                    }

                    if (!AnnounceGapLocked(signal))
                    {
                        return OfferResult.Full;
                    }
                }

                frame = record.Published(_maskPii);
            }

            return _queue.TryEnqueue(frame, signal) ? OfferResult.Queued : OfferResult.Full;
        }
    }

    /// <summary>Wakes the write loop after the fan-out queued frames without signalling.</summary>
    public void Signal() => _queue.Signal();

    /// <summary>Closes a client whose queue is full with 4008 <c>slow_consumer</c>.</summary>
    public void SlowConsumer()
    {
        if (Volatile.Read(ref _closeStatus) == 0)
        {
            Log.SlowConsumer(_logger, Id, _options.ClientBufferSize);
            var queued = _queue.Count;
            Interlocked.Add(ref _dropped, queued);
            _metrics?.Dropped(HubMetrics.DropReasons.SlowConsumer, queued);
            RequestClose(StreamCloseCodes.SlowConsumer, StreamCloseCodes.SlowConsumerDescription);
            _recordActivity?.Invoke(StreamActivityKinds.SlowConsumer, $"queue of {_options.ClientBufferSize} frames full");
        }
    }

    private async Task HandleAsync(ClientMessage message)
    {
        switch (message.Kind)
        {
            case ClientMessageKind.Ping:
                Enqueue(ServerMessages.Pong(_time.GetUtcNow()));
                break;
            case ClientMessageKind.UpdateFilters:
                var compiled = CompiledFilter.Compile(message.Filter!, _time);
                _fanOut.Refilter(this, () =>
                {
                    lock (_gate)
                    {
                        _filter = compiled;
                        Enqueue(ServerMessages.FiltersUpdated(compiled.Filter));
                    }
                });

                _recordActivity?.Invoke(StreamActivityKinds.FiltersUpdated, $"{FilterValidator.CountValues(compiled.Filter)} filter values");

                break;
            case ClientMessageKind.Resume:
                await StopCursorAsync();
                _fanOut.Leave(this);
                if (!RefusedForOtherLedger(message.LedgerId))
                {
                    var lastSeq = _request.Feed.LastSeq;
                    StartCursor(Math.Min(message.SinceSeq, lastSeq), lastSeq);
                }

                break;
            default:
                Enqueue(ServerMessages.Error(message.ErrorCode!, message.ErrorMessage!, message.ErrorField));
                break;
        }
    }

    /// <summary>
    /// True (after queueing <c>audit.error</c> <c>ledger_mismatch</c>) when a resume names another ledger than this one:
    /// its seq counts in another log, and streaming from it would mix two ledgers' events under one position.
    /// </summary>
    private bool RefusedForOtherLedger(string? resumeLedgerId)
    {
        _otherLedger = resumeLedgerId is not null && _request.LedgerId is { } served && !string.Equals(resumeLedgerId, served, StringComparison.Ordinal);
        if (_otherLedger)
        {
            Enqueue(ServerMessages.LedgerMismatch(resumeLedgerId!, _request.LedgerId!));
        }

        return _otherLedger;
    }

    /// <summary>Queues a control frame; a full queue means the client is not reading.</summary>
    private void Enqueue(StreamFrame frame)
    {
        if (!_queue.TryEnqueue(frame, signal: true))
        {
            SlowConsumer();
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
    /// space, so a replay goes at the client's pace; then it announces <c>audit.stream.caught_up</c> and is live. As soon as
    /// a live cursor is level with the fan-out it hands over to it and ends. Seq order, no gap, no duplicate: the cursor
    /// delivers up to some seq P in order and the fan-out delivers only seqs after P (<see cref="FanOut.TryJoin"/>).
    /// </summary>
    private async Task RunCursorAsync(long afterSeq, long? caughtUpAt, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var live = caughtUpAt is null;
            var position = afterSeq;
            Volatile.Write(ref _cursorPosition, position);
            if (!_request.Scope.Receives(MessageKind.AuditEvent))
            {
                // Nothing to replay or follow for this role: only its own connection messages.
                if (!live)
                {
                    await EnqueueWaitingAsync(ServerMessages.CaughtUp(caughtUpAt!.Value), cancellationToken);
                }

                return;
            }

            if (!live && position >= caughtUpAt)
            {
                if (!await EnqueueWaitingAsync(ServerMessages.CaughtUp(caughtUpAt!.Value), cancellationToken))
                {
                    return;
                }

                live = true;
            }

            if (live && _fanOut.TryJoin(this, position))
            {
                return;
            }

            await foreach (var record in _request.Feed.ReadAsync(position + 1, cancellationToken))
            {
                if (!await DeliverAsync(new RecordFrames(record, _fanOut.Frames), live, cancellationToken))
                {
                    return;
                }

                position = record.Seq;
                Volatile.Write(ref _cursorPosition, position);
                if (!live && position == caughtUpAt)
                {
                    if (!await EnqueueWaitingAsync(ServerMessages.CaughtUp(position), cancellationToken))
                    {
                        return;
                    }

                    live = true;
                }

                if (live && position >= _fanOut.DispatchedSeq && _fanOut.TryJoin(this, position))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failing cursor must close its client, not crash the host.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.CursorFailed(_logger, Id, exception);
            RequestClose(StreamCloseCodes.InternalError, StreamCloseCodes.InternalErrorDescription);
        }
    }

    private async ValueTask<bool> DeliverAsync(RecordFrames record, bool live, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (Offer(record, live, signal: true))
            {
                case OfferResult.Full when live:
                    SlowConsumer();
                    return false;
                case OfferResult.Full:
                    await _queue.WaitForSpaceAsync(cancellationToken);
                    if (Volatile.Read(ref _closeStatus) != 0)
                    {
                        return false;
                    }

                    continue;
                default:
                    return Volatile.Read(ref _closeStatus) == 0;
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
    private bool AnnounceGapLocked(bool signal)
    {
        if (!_gapPending)
        {
            return true;
        }

        _gapPending = false;
        if (_queue.TryEnqueue(ServerMessages.Gap(_gapFrom, _gapTo, StreamGapReasons.RateLimited), signal))
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
                AnnounceGapLocked(signal: true);
            }
        }
    }

    private async ValueTask<bool> EnqueueWaitingAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        while (!_queue.TryEnqueue(frame, signal: true))
        {
            await _queue.WaitForSpaceAsync(cancellationToken);
        }

        return Volatile.Read(ref _closeStatus) == 0;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<StreamFrame>();
        try
        {
            while (await _queue.WaitToReadAsync())
            {
                if (_stopWriting)
                {
                    return;
                }

                if (_queue.Drain(batch, MaxFramesPerWrite) == 0)
                {
                    continue;
                }

                var events = 0;
                var bytes = 0L;
                var oldestCommit = 0L;
                foreach (var frame in batch)
                {
                    await _transport.SendAsync(frame, _abort.Token);
                    bytes += frame.Json.Length;
                    if (frame.CommittedAtMicros != 0)
                    {
                        events++;
                        oldestCommit = oldestCommit == 0 ? frame.CommittedAtMicros : Math.Min(oldestCommit, frame.CommittedAtMicros);
                    }
                }

                batch.Clear();
                await _transport.FlushAsync(_abort.Token);
                var now = _time.GetUtcNow();
                Volatile.Write(ref _lastActivityTicks, now.UtcTicks);
                Interlocked.Add(ref _delivered, events);
                if (_metrics is { } metrics)
                {
                    // One observation per socket write (its oldest event) keeps the metric off the per-frame path.
                    metrics.Delivered(events, bytes);
                    if (oldestCommit != 0)
                    {
                        metrics.ObserveLatency(Math.Max(0, ((now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10.0) - oldestCommit) / 1_000_000.0);
                    }
                }
            }

            if (!_stopWriting && Volatile.Read(ref _closeStatus) is var status and not 0)
            {
                await _transport.CloseAsync(status, _closeDescription, _abort.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or IOException)
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
