using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Tests;

public sealed class FrameQueueTests
{
    private static StreamFrame Frame(int i) => new("audit.event.published", i, [(byte)'{', (byte)'}']);

    [Fact]
    public async Task Frames_queued_without_a_signal_do_not_wake_the_reader_until_signal()
    {
        var queue = new FrameQueue(8);
        var waiting = queue.WaitToReadAsync().AsTask();

        Assert.True(queue.TryEnqueue(Frame(1), signal: false));
        Assert.True(queue.TryEnqueue(Frame(2), signal: false));
        Assert.False(waiting.IsCompleted);

        queue.Signal();
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        var batch = new List<StreamFrame>();
        Assert.Equal(2, queue.Drain(batch, 100));
        Assert.Equal([1L, 2L], batch.Select(f => f.EventId!.Value));
    }

    [Fact]
    public async Task A_signalling_enqueue_wakes_the_reader_and_waiting_again_allocates_a_fresh_wait()
    {
        var queue = new FrameQueue(8);
        var batch = new List<StreamFrame>();
        for (var round = 0; round < 3; round++)
        {
            var waiting = queue.WaitToReadAsync();
            Assert.True(queue.TryEnqueue(Frame(round), signal: true));
            Assert.True(await waiting);
            Assert.Equal(1, queue.Drain(batch, 100));
        }

        Assert.Equal([0L, 1L, 2L], batch.Select(f => f.EventId!.Value));
    }

    [Fact]
    public void A_full_queue_refuses_and_draining_makes_room_oldest_first()
    {
        var queue = new FrameQueue(3);
        Assert.True(queue.TryEnqueue(Frame(1), false));
        Assert.True(queue.TryEnqueue(Frame(2), false));
        Assert.True(queue.TryEnqueue(Frame(3), false));
        Assert.False(queue.TryEnqueue(Frame(4), false));
        Assert.Equal(3, queue.Count);

        var batch = new List<StreamFrame>();
        Assert.Equal(2, queue.Drain(batch, 2));
        Assert.True(queue.TryEnqueue(Frame(4), false));
        Assert.True(queue.TryEnqueue(Frame(5), false));
        Assert.Equal(3, queue.Drain(batch, 10));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], batch.Select(f => f.EventId!.Value));
    }

    [Fact]
    public void A_queue_grows_to_its_capacity_and_keeps_order_across_the_wrap()
    {
        var queue = new FrameQueue(100);
        var batch = new List<StreamFrame>();
        for (var i = 0; i < 5; i++)
        {
            queue.TryEnqueue(Frame(i), false);
        }

        queue.Drain(batch, 3);
        for (var i = 5; i < 103; i++)
        {
            Assert.True(queue.TryEnqueue(Frame(i), false));
        }

        Assert.False(queue.TryEnqueue(Frame(103), false));
        Assert.Equal(100, queue.Drain(batch, 1000));
        Assert.Equal(Enumerable.Range(0, 103).Select(i => (long)i), batch.Select(f => f.EventId!.Value));
    }

    [Fact]
    public async Task A_replay_waiting_for_space_resumes_when_the_reader_drains()
    {
        var queue = new FrameQueue(1);
        Assert.True(queue.TryEnqueue(Frame(1), true));
        var space = queue.WaitForSpaceAsync(CancellationToken.None);
        Assert.False(space.IsCompleted);

        queue.Drain([], 1);
        await space.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(queue.TryEnqueue(Frame(2), true));
    }

    [Fact]
    public async Task Complete_lets_the_reader_finish_what_is_queued_and_abort_drops_it()
    {
        var completed = new FrameQueue(4);
        completed.TryEnqueue(Frame(1), false);
        completed.Complete();
        Assert.True(completed.TryEnqueue(Frame(2), true));
        Assert.True(await completed.WaitToReadAsync());
        var batch = new List<StreamFrame>();
        Assert.Equal(1, completed.Drain(batch, 10));
        Assert.False(await completed.WaitToReadAsync());

        var aborted = new FrameQueue(4);
        var waiting = aborted.WaitToReadAsync().AsTask();
        aborted.TryEnqueue(Frame(1), false);
        aborted.Abort();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, aborted.Drain(batch, 10));
        Assert.False(await aborted.WaitToReadAsync());
    }

    [Fact]
    public void Events_queued_after_a_burst_of_deferred_proofs_leave_before_them_and_proofs_follow_a_bounded_share_per_turn()
    {
        var queue = new FrameQueue(1000);
        Assert.True(queue.TryEnqueue(Frame(1), false)); // the checkpoint the proofs lead to
        for (var i = 0; i < 100; i++)
        {
            Assert.True(queue.TryEnqueueDeferred(Frame(1000 + i), false));
        }

        Assert.True(queue.TryEnqueue(Frame(2), false));
        Assert.True(queue.TryEnqueue(Frame(3), false));

        var first = new List<StreamFrame>();
        Assert.Equal(3 + FrameQueue.MaxDeferredPerDrain, queue.Drain(first, 512));
        Assert.Equal([1L, 2L, 3L], first.Take(3).Select(f => f.EventId!.Value));
        Assert.Equal(Enumerable.Range(1000, FrameQueue.MaxDeferredPerDrain).Select(i => (long)i), first.Skip(3).Select(f => f.EventId!.Value));

        Assert.True(queue.TryEnqueue(Frame(4), false));
        var second = new List<StreamFrame>();
        Assert.Equal(1 + 100 - FrameQueue.MaxDeferredPerDrain, queue.Drain(second, 512));
        Assert.Equal(4L, second[0].EventId);
        Assert.Equal(Enumerable.Range(1000 + FrameQueue.MaxDeferredPerDrain, 100 - FrameQueue.MaxDeferredPerDrain).Select(i => (long)i), second.Skip(1).Select(f => f.EventId!.Value));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_deferred_frame_never_passes_a_frame_queued_before_it_and_both_lanes_share_the_capacity()
    {
        var queue = new FrameQueue(4);
        var waiting = queue.WaitToReadAsync().AsTask();
        Assert.True(queue.TryEnqueue(Frame(1), false));
        Assert.True(queue.TryEnqueue(Frame(2), false));
        Assert.True(queue.TryEnqueue(Frame(3), false));
        Assert.True(queue.TryEnqueueDeferred(Frame(10), signal: true));
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(queue.TryEnqueue(Frame(4), false));
        Assert.False(queue.TryEnqueueDeferred(Frame(11), false));

        var batch = new List<StreamFrame>();
        Assert.Equal(2, queue.Drain(batch, 2));
        Assert.Equal([1L, 2L], batch.Select(f => f.EventId!.Value));
        Assert.True(queue.TryEnqueue(Frame(4), false));
        Assert.Equal(2, queue.Drain(batch, 1));
        Assert.Equal([1L, 2L, 3L, 10L], batch.Select(f => f.EventId!.Value));
        Assert.Equal(1, queue.Drain(batch, 10));
        Assert.Equal(4L, batch[^1].EventId);
    }

    [Fact]
    public void A_frame_queued_after_deferred_ones_waits_for_them_and_so_do_the_frames_behind_it()
    {
        var queue = new FrameQueue(1000);
        Assert.True(queue.TryEnqueue(Frame(1), false)); // checkpoint 1
        for (var i = 0; i < 100; i++)
        {
            Assert.True(queue.TryEnqueueDeferred(Frame(1000 + i), false)); // proofs against checkpoint 1
        }

        Assert.True(queue.TryEnqueue(Frame(2), false)); // an event: may pass the proofs
        Assert.True(queue.TryEnqueue(Frame(3), false, afterDeferred: true)); // checkpoint 2: may not
        Assert.True(queue.TryEnqueue(Frame(4), false));

        var batch = new List<StreamFrame>();
        while (queue.Drain(batch, 512) > 0)
        {
        }

        var order = batch.Select(f => f.EventId!.Value).ToList();
        Assert.Equal(104, order.Count);
        Assert.Equal([1L, 2L], order.Take(2));
        Assert.Equal(Enumerable.Range(1000, 100).Select(i => (long)i), order.Skip(2).Take(100));
        Assert.Equal([3L, 4L], order.Skip(102));
    }
}
