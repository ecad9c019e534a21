using AuditStream.Ledger.Feed;
using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Hub;

/// <summary>
/// Live delivery for every client that has caught up (DESIGN.md §7): one loop reads the committed feed once, asks the
/// <see cref="SubscriptionIndex"/> which clients may want each record, serializes each frame once per view, and queues
/// it to those clients without waking them. When the feed has nothing more to give right away, and the batching window
/// (<see cref="HubOptions.FanOutWindowPerClient"/> per client to wake, at most <see cref="HubOptions.FanOutMaxWindow"/>)
/// has passed, or after <see cref="MaxRecordsPerSignal"/> records, it wakes each client that got frames once, so a
/// client's write loop puts a whole batch into one socket write. The window only applies while deliveries are frequent:
/// a commit that arrives when the last wake is a whole window ago goes out at once, since batching could not have
/// gathered anything with it, and waiting would only add the window to its latency. It never waits for a client: a full
/// queue closes that client.
/// </summary>
internal sealed partial class FanOut : IAsyncDisposable
{
    /// <summary>Records dispatched before the clients that got frames are woken even though more records are ready.</summary>
    public const int MaxRecordsPerSignal = 256;

    private readonly CommittedFeed _feed;
    private readonly PublishedFrameCache _frames;
    private readonly TimeSpan _windowPerClient;
    private readonly TimeSpan _maxWindow;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SubscriptionIndex _index = new();
    private readonly Lock _lock = new();
    private readonly List<IFanOutClient> _candidates = [];
    private readonly List<IFanOutClient> _woken = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly BatchWindow _window;
    private readonly Task _loop;
    private long _dispatched;
    private long _lastWake;

    public FanOut(CommittedFeed feed, PublishedFrameCache frames, TimeSpan windowPerClient, TimeSpan maxWindow, TimeProvider time, ILogger logger)
    {
        _feed = feed;
        _frames = frames;
        _windowPerClient = windowPerClient;
        _maxWindow = maxWindow;
        _time = time;
        _logger = logger;
        _dispatched = feed.LastSeq;
        _window = new BatchWindow(time);
        _loop = RunAsync(_stop.Token);
    }

    /// <summary>The frames shared by every reader of a record.</summary>
    public PublishedFrameCache Frames => _frames;

    /// <summary>The feed this fan-out reads.</summary>
    public CommittedFeed Feed => _feed;

    /// <summary>The last seq offered to every live client.</summary>
    public long DispatchedSeq => Volatile.Read(ref _dispatched);

    /// <summary>False once the loop ended (stopped, or failed reading the feed); the hub then starts a new fan-out.</summary>
    public bool IsRunning => !_loop.IsCompleted;

    /// <summary>Clients receiving live delivery.</summary>
    public int LiveClients
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    /// <summary>
    /// Hands <paramref name="client"/>, whose cursor delivered every seq up to <paramref name="position"/>, over to live
    /// delivery of the seqs after it; false when the fan-out has already passed <paramref name="position"/> (the cursor
    /// must read on).
    /// </summary>
    public bool TryJoin(IFanOutClient client, long position)
    {
        lock (_lock)
        {
            if (position < _dispatched || !IsRunning)
            {
                return false;
            }

            if (client.Subscription is null)
            {
                client.LiveAfter = position;
                _index.Add(client);
            }

            return true;
        }
    }

    /// <summary>Stops live delivery to <paramref name="client"/>.</summary>
    public void Leave(IFanOutClient client)
    {
        lock (_lock)
        {
            _index.Remove(client);
        }
    }

    /// <summary>Applies a filter change between two records and re-indexes the client if it is live.</summary>
    public void Refilter(IFanOutClient client, Action change)
    {
        lock (_lock)
        {
            change();
            if (client.Subscription is not null)
            {
                _index.Remove(client);
                _index.Add(client);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _window.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        var pending = 0;
        var firstPending = 0L;
        try
        {
            await using var records = _feed.ReadAsync(DispatchedSeq + 1, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
#pragma warning disable CA2012 // Looked at (IsCompleted) and then consumed exactly once: awaited, or taken by the batching window.
                var next = records.MoveNextAsync();
#pragma warning restore CA2012
                if (!next.IsCompleted && _woken.Count > 0)
                {
                    // Nothing more committed right now: wake the clients that got frames, unless the batching window (longer
                    // the more clients there are to wake) holds them for what commits next.
                    var window = _windowPerClient * _woken.Count;
                    window = window < _maxWindow ? window : _maxWindow;
                    var busy = _lastWake != 0 && _time.GetElapsedTime(_lastWake) < window;
                    var waited = busy ? window - _time.GetElapsedTime(firstPending) : TimeSpan.Zero;
                    if (waited > TimeSpan.Zero)
                    {
                        if (!await _window.WaitAsync(next, waited))
                        {
                            WakeClients();
                            pending = 0;
                            await _window.NextCompletedAsync();
                        }

                        if (!_window.TakeNext())
                        {
                            return;
                        }
                    }
                    else
                    {
                        WakeClients();
                        pending = 0;
                        if (!await next)
                        {
                            return;
                        }
                    }
                }
                else if (!await next)
                {
                    return;
                }

                if (_woken.Count == 0)
                {
                    firstPending = _time.GetTimestamp();
                }

                Dispatch(new RecordFrames(records.Current, _frames));
                if (++pending >= MaxRecordsPerSignal)
                {
                    WakeClients();
                    pending = 0;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Live delivery failing must close its clients (they resume from the ledger), not crash the host.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.FanOutFailed(_logger, exception);
            lock (_lock)
            {
                foreach (var client in _index.All().ToList())
                {
                    client.RequestClose(Protocol.StreamCloseCodes.InternalError, Protocol.StreamCloseCodes.InternalErrorDescription);
                }
            }
        }
        finally
        {
            WakeClients();
        }
    }

    private void Dispatch(RecordFrames record)
    {
        var e = record.Record.Event;
        var seq = record.Record.Seq;
        lock (_lock)
        {
            if (record.AlertKind is not null)
            {
                _index.CollectAlertCandidates(e, _candidates);
            }
            else
            {
                _index.CollectEventCandidates(e, seq, _candidates);
            }

            foreach (var client in _candidates)
            {
                if (seq <= client.LiveAfter)
                {
                    // Its cursor delivered this one before handing over.
                    continue;
                }

                switch (client.Offer(record, live: true, signal: false))
                {
                    case OfferResult.Queued when !client.SignalPending:
                        client.SignalPending = true;
                        _woken.Add(client);
                        break;
                    case OfferResult.Full:
                        client.SlowConsumer();
                        break;
                }
            }

            _candidates.Clear();
            Volatile.Write(ref _dispatched, seq);
        }
    }

    private void WakeClients()
    {
        _lastWake = _time.GetTimestamp();
        foreach (var client in _woken)
        {
            client.SignalPending = false;
            client.Signal();
        }

        _woken.Clear();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "FanOutFailed", Level = LogLevel.Error, Message = "Live delivery failed reading the committed feed; closing its clients")]
        public static partial void FanOutFailed(ILogger logger, Exception exception);
    }
}
