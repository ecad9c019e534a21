using AuditStream.Security;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// A client's own reader of the committed feed (DESIGN.md §5), for a replay (<c>since_seq</c>, <c>resume</c>) and until a
/// live client is level with the <see cref="FanOut"/>. During a replay it waits for queue space, so a replay goes at the
/// client's pace; at the replay's end it announces <c>audit.stream.caught_up</c>. As soon as it is level with the fan-out
/// it hands over (<see cref="FanOut.TryJoin"/>) and ends. Seq order, no gap, no duplicate: the cursor delivers up to some
/// seq P in order and the fan-out delivers only seqs after P. One cursor runs at a time; <see cref="Start"/> and
/// <see cref="StopAsync"/> are called by one task at a time (the client's run, then its read loop).
/// </summary>
/// <remarks>Takes no lock of its own: it offers through <see cref="IFanOutClient.Offer"/>, which takes the client's gate.</remarks>
internal sealed partial class ReplayCursor : IDisposable
{
    private readonly IFanOutClient _client;
    private readonly ClientRequest _request;
    private readonly FanOut _fanOut;
    private readonly FrameQueue _queue;
    private readonly CloseState _close;
    private readonly ILogger _logger;
    private readonly string _clientId;
    private CancellationTokenSource? _cancel;
    private Task _running = Task.CompletedTask;

    // The last seq the cursor has dealt with (delivered or filtered out), for the resume hint of a 1001 close.
    private long _position;

    public ReplayCursor(IFanOutClient client, string clientId, ClientRequest request, FanOut fanOut, FrameQueue queue, CloseState close, ILogger logger)
    {
        _client = client;
        _clientId = clientId;
        _request = request;
        _fanOut = fanOut;
        _queue = queue;
        _close = close;
        _logger = logger;
    }

    /// <summary>The last seq the cursor delivered or passed over.</summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>The running cursor (completed when none runs).</summary>
    public Task Running => _running;

    /// <summary>Starts reading after <paramref name="afterSeq"/>; a replay (<paramref name="caughtUpAt"/> set) ends with <c>caught_up</c> at that seq.</summary>
    public void Start(long afterSeq, long? caughtUpAt)
    {
        _cancel?.Dispose();
        _cancel = new CancellationTokenSource();
        Volatile.Write(ref _position, afterSeq);
        _running = RunAsync(afterSeq, caughtUpAt, _cancel.Token);
    }

    /// <summary>Stops the running cursor and waits for it to end.</summary>
    public async Task StopAsync()
    {
        if (_cancel is { } cancel)
        {
            await cancel.CancelAsync();
        }

        await _running;
    }

    public void Dispose() => _cancel?.Dispose();

    private async Task RunAsync(long afterSeq, long? caughtUpAt, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var live = caughtUpAt is null;
            var position = afterSeq;
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

            if (live && _fanOut.TryJoin(_client, position))
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
                Volatile.Write(ref _position, position);
                if (!live && position == caughtUpAt)
                {
                    if (!await EnqueueWaitingAsync(ServerMessages.CaughtUp(position), cancellationToken))
                    {
                        return;
                    }

                    live = true;
                }

                if (live && position >= _fanOut.DispatchedSeq && _fanOut.TryJoin(_client, position))
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
            Log.CursorFailed(_logger, _clientId, exception);
            _client.RequestClose(StreamCloseCodes.InternalError, StreamCloseCodes.InternalErrorDescription);
        }
    }

    private async ValueTask<bool> DeliverAsync(RecordFrames record, bool live, CancellationToken cancellationToken)
    {
        await _client.PrepareAsync(record, cancellationToken);
        while (true)
        {
            switch (_client.Offer(record, live, signal: true))
            {
                case OfferResult.Full when live:
                    _client.SlowConsumer();
                    return false;
                case OfferResult.Full:
                    await _queue.WaitForSpaceAsync(cancellationToken);
                    if (_close.IsClosing)
                    {
                        return false;
                    }

                    continue;
                default:
                    return !_close.IsClosing;
            }
        }
    }

    private async ValueTask<bool> EnqueueWaitingAsync(StreamFrame frame, CancellationToken cancellationToken)
    {
        while (!_queue.TryEnqueue(frame, signal: true))
        {
            await _queue.WaitForSpaceAsync(cancellationToken);
        }

        return !_close.IsClosing;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2, EventName = "CursorFailed", Level = LogLevel.Error, Message = "Stream client {ClientId} failed reading the committed feed")]
        public static partial void CursorFailed(ILogger logger, string clientId, Exception exception);
    }
}
