using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// One stream client (DESIGN.md §5): a bounded <see cref="FrameQueue"/> written to the transport (WebSocket or
/// Server-Sent Events) by its <see cref="SendLoop"/>, several frames per socket write. Events reach the queue two ways:
/// while the client replays (<c>since_seq</c>, <c>resume</c>, a past time range) its <see cref="ReplayCursor"/> reads the
/// committed feed at the client's pace; once it has caught up it joins the hub's <see cref="FanOut"/>, which offers it
/// each live event it may want (<see cref="Offer"/>) and never waits for it: a live client whose queue is full is closed
/// with 4008 <c>slow_consumer</c>. What the client sends is answered by <see cref="InboundMessages"/>, live events over
/// its budget become <see cref="RateLimitGap"/> announcements, and the close decision is its <see cref="CloseState"/>.
/// </summary>
/// <remarks>
/// Lock order: the fan-out's lock, then this client's <c>_gate</c>, then its <see cref="FrameQueue"/>'s lock (the
/// WebSocket framer's write lock is never taken under any of them: only the send loop and the read loop write).
/// Timer callbacks (the gap announcement) start with no lock held.
/// </remarks>
internal sealed partial class ClientConnection : IFanOutClient, IDisposable
{
    private readonly IClientTransport _transport;
    private readonly ClientRequest _request;
    private readonly HubOptions _options;
    private readonly FanOut _fanOut;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FrameQueue _queue;
    private readonly CloseState _close = new();
    private readonly SendLoop _send;
    private readonly ReplayCursor _cursor;
    private readonly InboundMessages _inbound;
    private readonly RateLimitGap _gap;
    private readonly CancellationTokenSource _abort = new();

    // Held while a frame's filter decision and its enqueue happen, so a filter change, its ack and the close are ordered with events.
    private readonly Lock _gate = new();
    private readonly bool _maskPii;
    private CompiledFilter _filter;

    // Set while the client's resume named another ledger: nothing is streamed and a 1001 close gives no seq to resume at.
    private volatile bool _otherLedger;

    private readonly Action<string, string?>? _recordActivity;
    private readonly HubMetrics? _metrics;
    private long _dropped;

    public ClientConnection(string id, IClientTransport transport, ClientRequest request, HubOptions options, FanOut fanOut, TimeProvider time, ILogger logger, Action<string, string?>? recordActivity = null, HubMetrics? metrics = null, Proofs.StreamProofs? proofs = null)
    {
        _metrics = metrics;
        _proofService = proofs;
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
        _queue = new FrameQueue(options.ClientBufferSize);
        _send = new SendLoop(_queue, transport, _close, time, metrics);
        _cursor = new ReplayCursor(this, id, request, fanOut, _queue, _close, logger);
        _inbound = new InboundMessages(this, options, time);
        _gap = new RateLimitGap(options.RateLimitPerSecond, options.RateLimitPerMinute, time, static state => ((ClientConnection)state!).OnWindowEnd(), this);
        ConnectedAt = time.GetUtcNow();
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
    public Task<int> CloseRequested => _close.Requested;

    /// <summary>Frames queued and not yet written.</summary>
    public int QueueDepth => _queue.Count;

    /// <summary>Audit events (and alerts) written to the client.</summary>
    public long Delivered => _send.Delivered;

    /// <summary>Audit events the client was not sent: skipped by its rate limit, or queued when it was closed as a slow consumer.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>When the client last sent a message or was written to.</summary>
    public DateTimeOffset LastActivity => new(Math.Max(ConnectedAt.UtcTicks, Math.Max(_inbound.LastMessageTicks, _send.LastWriteTicks)), TimeSpan.Zero);

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
        var lastSeq = _request.Feed.LastSeq;
        var proofs = _request.Filter.Proofs == true && CanHaveProofs;
        Enqueue(ServerMessages.Established(Id, _request.Scope.Role, _time.GetUtcNow(), lastSeq, _request.LedgerId, _request.Filter, _options, proofs));
        StartProofs(_request.Filter.Proofs);
        using var abortQueue = _abort.Token.Register(static state => ((FrameQueue)state!).Abort(), _queue);
        var writer = _send.RunAsync(_abort.Token);
        if (!RefusedForOtherLedger(_request.ResumeLedgerId))
        {
            _cursor.Start(_request.SinceSeq is { } since ? Math.Min(since, lastSeq) : lastSeq, _request.SinceSeq is null ? null : lastSeq);
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
                await _cursor.StopAsync();
                _fanOut.Leave(this);
                StopProofs();
            }

            _queue.Complete();
            if (!_close.IsClosing)
            {
                // The client closed first: it wants no more frames.
                _send.Stop();
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
            if (_close.IsClosing)
            {
                return;
            }

            _close.TryDecide(status, status == StreamCloseCodes.GoingAway && !_otherLedger
                ? ServerMessages.GoingAwayHint(description, ResumeSeqLocked(), _request.LedgerId)
                : description);
        }

        _close.Announce();
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
    private long ResumeSeqLocked() => Subscription is not null ? _fanOut.DispatchedSeq : _cursor.Position;

    public void Dispose()
    {
        _gap.Dispose();
        _cursor.Dispose();
        _abort.Dispose();
    }

    /// <summary>Counts one message read by the transport against the inbound limit; false means the transport must drop it.</summary>
    internal bool AdmitInbound() => _inbound.Admit();

    /// <summary>Answers a client message read by the transport.</summary>
    internal Task HandleAsync(ReadOnlySpan<byte> json) => _inbound.HandleAsync(json);

    /// <summary>Queues an answer to the client (an error about its message, a pong, a keep-alive).</summary>
    internal void Reply(StreamFrame frame) => Enqueue(frame);

    /// <summary>Puts <paramref name="compiled"/> in force in step with the fan-out and queues its ack in order with events.</summary>
    internal void ChangeFilter(CompiledFilter compiled)
    {
        AuditStream.Streaming.Proofs.ProofFollower? started = null;
        _fanOut.Refilter(this, () =>
        {
            lock (_gate)
            {
                _filter = compiled;
                started = ChangeProofsLocked(compiled.Filter.Proofs);
                Enqueue(ServerMessages.FiltersUpdated(compiled.Filter, _proofs is not null));
            }
        });

        if (started is not null)
        {
            _proofService!.Attach(started);
        }

        _recordActivity?.Invoke(StreamActivityKinds.FiltersUpdated, $"{FilterValidator.CountValues(compiled.Filter)} filter values");
    }

    /// <summary>Restarts delivery after <paramref name="sinceSeq"/> (a <c>resume</c> message), unless it names another ledger.</summary>
    internal async Task ResumeAsync(long sinceSeq, string? ledgerId)
    {
        await _cursor.StopAsync();
        _fanOut.Leave(this);
        if (!RefusedForOtherLedger(ledgerId))
        {
            var lastSeq = _request.Feed.LastSeq;
            _cursor.Start(Math.Min(sinceSeq, lastSeq), lastSeq);
        }
    }

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
            if (_close.IsClosing)
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

                if (live && _gap.Enabled)
                {
                    if (!_gap.TryTake(record.Record.Seq))
                    {
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
                if (_proofs is { } proofs)
                {
                    frame = proofs.Attach(record.Record, frame);
                }
            }

            return _queue.TryEnqueue(frame, signal) ? OfferResult.Queued : OfferResult.Full;
        }
    }

    /// <summary>Wakes the write loop after the fan-out queued frames without signalling.</summary>
    public void Signal() => _queue.Signal();

    /// <summary>Closes a client whose queue is full with 4008 <c>slow_consumer</c>.</summary>
    public void SlowConsumer()
    {
        if (!_close.IsClosing)
        {
            Log.SlowConsumer(_logger, Id, _options.ClientBufferSize);
            var queued = _queue.Count;
            Interlocked.Add(ref _dropped, queued);
            _metrics?.Dropped(HubMetrics.DropReasons.SlowConsumer, queued);
            RequestClose(StreamCloseCodes.SlowConsumer, StreamCloseCodes.SlowConsumerDescription);
            _recordActivity?.Invoke(StreamActivityKinds.SlowConsumer, $"queue of {_options.ClientBufferSize} frames full");
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

    /// <summary>Queues the pending <c>audit.stream.gap</c>, if any; false when the queue is full (the client is then closed).</summary>
    private bool AnnounceGapLocked(bool signal)
    {
        if (_gap.TakeGap() is not { } gap || _queue.TryEnqueue(gap, signal))
        {
            return true;
        }

        SlowConsumer();
        return false;
    }

    private void OnWindowEnd()
    {
        lock (_gate)
        {
            if (!_close.IsClosing)
            {
                AnnounceGapLocked(signal: true);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "SlowConsumer", Level = LogLevel.Warning,
            Message = "Stream client {ClientId} did not keep up ({BufferSize} frames queued); closing with 4008 slow_consumer")]
        public static partial void SlowConsumer(ILogger logger, string clientId, int bufferSize);
    }
}
