using System.Text;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests.Clients;

/// <summary>The client's one writer over an in-memory transport: coalescing per write, its cap, the close after the last frame.</summary>
public sealed class SendLoopTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private readonly FakeTransport _transport = new();
    private readonly FrameQueue _queue = new(4096);
    private readonly CloseState _close = new();

    private SendLoop NewLoop() => new(_queue, _transport, _close, _time, metrics: null);

    private static StreamFrame Frame(int n, bool isEvent = false) =>
        new("audit.event.published", n, Encoding.UTF8.GetBytes($$"""{"n":{{n}}}""")) { CommittedAtMicros = isEvent ? 1 : 0 };

    [Fact]
    public async Task Frames_queued_before_the_loop_wakes_leave_in_one_write()
    {
        for (var i = 0; i < 5; i++)
        {
            Assert.True(_queue.TryEnqueue(Frame(i), signal: false));
        }

        var loop = NewLoop();
        var running = loop.RunAsync(CancellationToken.None);
        await _transport.WaitForAsync(t => t.Frames.Count == 5);
        _queue.Complete();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal(["flush:5"], _transport.Log);
        Assert.Equal([0L, 1, 2, 3, 4], _transport.Frames.Select(f => f.EventId!.Value));
    }

    [Fact]
    public async Task Frames_queued_while_a_write_is_stuck_go_out_together_in_the_next_write()
    {
        _transport.Hold();
        var running = NewLoop().RunAsync(CancellationToken.None);
        _queue.TryEnqueue(Frame(0), signal: true);
        await _transport.FlushStarted;

        for (var i = 1; i <= 10; i++)
        {
            _queue.TryEnqueue(Frame(i), signal: true);
        }

        _transport.Release();
        await _transport.WaitForAsync(t => t.Frames.Count == 11);
        _queue.Complete();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal([1, 10], _transport.Flushes.Select(f => f.Count));
    }

    [Fact]
    public async Task One_write_takes_at_most_MaxFramesPerWrite_frames()
    {
        var total = (2 * SendLoop.MaxFramesPerWrite) + 7;
        for (var i = 0; i < total; i++)
        {
            _queue.TryEnqueue(Frame(i), signal: false);
        }

        _queue.Complete();
        await NewLoop().RunAsync(CancellationToken.None).WaitAsync(FakeTransport.Timeout);

        Assert.Equal([SendLoop.MaxFramesPerWrite, SendLoop.MaxFramesPerWrite, 7], _transport.Flushes.Select(f => f.Count));
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), _transport.Frames.Select(f => f.EventId!.Value));
    }

    [Fact]
    public async Task A_decided_close_is_written_after_every_frame_queued_before_it()
    {
        _queue.TryEnqueue(Frame(1), signal: false);
        _queue.TryEnqueue(Frame(2), signal: false);
        Assert.True(_close.TryDecide(StreamCloseCodes.SlowConsumer, StreamCloseCodes.SlowConsumerDescription));
        _queue.Complete();

        await NewLoop().RunAsync(CancellationToken.None).WaitAsync(FakeTransport.Timeout);

        Assert.Equal(["flush:2", "close:4008:slow_consumer"], _transport.Log);
    }

    [Fact]
    public async Task A_stopped_loop_writes_nothing_more_not_even_the_close()
    {
        _transport.Hold();
        var loop = NewLoop();
        var running = loop.RunAsync(CancellationToken.None);
        _queue.TryEnqueue(Frame(0), signal: true);
        await _transport.FlushStarted;
        _queue.TryEnqueue(Frame(1), signal: true);
        _close.TryDecide(StreamCloseCodes.GoingAway, StreamCloseCodes.GoingAwayDescription);

        loop.Stop();
        _queue.Complete();
        _transport.Release();
        await running.WaitAsync(FakeTransport.Timeout);

        Assert.Equal(["flush:1"], _transport.Log);
    }

    [Fact]
    public async Task Delivered_counts_event_frames_only_and_the_write_time_is_recorded()
    {
        _queue.TryEnqueue(Frame(1, isEvent: true), signal: false);
        _queue.TryEnqueue(Frame(2, isEvent: false), signal: false);
        _queue.TryEnqueue(Frame(3, isEvent: true), signal: false);
        _queue.Complete();
        var loop = NewLoop();
        Assert.Equal(0, loop.LastWriteTicks);

        await loop.RunAsync(CancellationToken.None).WaitAsync(FakeTransport.Timeout);

        Assert.Equal(2, loop.Delivered);
        Assert.Equal(_time.GetUtcNow().UtcTicks, loop.LastWriteTicks);
    }

    [Fact]
    public async Task A_peer_that_went_away_ends_the_loop_quietly()
    {
        _transport.FailWith(new IOException("connection reset"));
        _queue.TryEnqueue(Frame(1), signal: false);
        _close.TryDecide(StreamCloseCodes.GoingAway, StreamCloseCodes.GoingAwayDescription);
        _queue.Complete();

        await NewLoop().RunAsync(CancellationToken.None).WaitAsync(FakeTransport.Timeout);

        Assert.Empty(_transport.Log);
    }

    [Fact]
    public async Task The_close_timeout_cancels_a_write_that_never_completes()
    {
        _transport.Hold();
        using var abort = new CancellationTokenSource();
        var running = NewLoop().RunAsync(abort.Token);
        _queue.TryEnqueue(Frame(0), signal: true);
        await _transport.FlushStarted;

        await abort.CancelAsync();

        await running.WaitAsync(FakeTransport.Timeout);
        Assert.Empty(_transport.Log);
    }
}
