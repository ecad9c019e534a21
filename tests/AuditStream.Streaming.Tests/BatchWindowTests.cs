using System.Threading.Tasks.Sources;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests;

public sealed class BatchWindowTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task A_record_within_the_window_is_reported_as_there()
    {
        using var window = new BatchWindow(_time);
        var next = new NextRecord();

        var waiting = window.WaitAsync(next.AsValueTask(), TimeSpan.FromMilliseconds(20)).AsTask();
        next.Complete(true);

        Assert.True(await waiting.WaitAsync(s_timeout));
        Assert.True(window.TakeNext());

        // The window's timer is disarmed: passing it later completes nothing and throws nothing.
        _time.Advance(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_window_that_passes_first_says_so_without_throwing_and_the_record_is_still_taken()
    {
        using var window = new BatchWindow(_time);
        var next = new NextRecord();

        var waiting = window.WaitAsync(next.AsValueTask(), TimeSpan.FromMilliseconds(20)).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(19));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await waiting.WaitAsync(s_timeout));

        var rest = window.NextCompletedAsync().AsTask();
        Assert.False(rest.IsCompleted);
        next.Complete(false);
        await rest.WaitAsync(s_timeout);
        Assert.False(window.TakeNext());
    }

    [Fact]
    public async Task A_record_that_comes_just_after_the_window_passed_is_not_lost()
    {
        using var window = new BatchWindow(_time);
        var next = new NextRecord();

        var waiting = window.WaitAsync(next.AsValueTask(), TimeSpan.FromMilliseconds(5)).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(5));
        next.Complete(true);
        Assert.False(await waiting.WaitAsync(s_timeout));

        await window.NextCompletedAsync().AsTask().WaitAsync(s_timeout);
        Assert.True(window.TakeNext());
    }

    [Fact]
    public async Task A_failed_read_is_rethrown_when_taken()
    {
        using var window = new BatchWindow(_time);
        var next = new NextRecord();

        var waiting = window.WaitAsync(next.AsValueTask(), TimeSpan.FromMilliseconds(20)).AsTask();
        next.Fail(new InvalidOperationException("feed broke"));

        Assert.True(await waiting.WaitAsync(s_timeout));
        Assert.Equal("feed broke", Assert.Throws<InvalidOperationException>(() => window.TakeNext()).Message);
    }

    [Fact]
    public async Task Waits_in_a_row_each_end_the_way_their_round_did()
    {
        using var window = new BatchWindow(_time);
        for (var i = 0; i < 100; i++)
        {
            var next = new NextRecord();
            var waiting = window.WaitAsync(next.AsValueTask(), TimeSpan.FromMilliseconds(1)).AsTask();
            if (i % 2 == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
                Assert.False(await waiting.WaitAsync(s_timeout));
                var rest = window.NextCompletedAsync().AsTask();
                next.Complete(true);
                await rest.WaitAsync(s_timeout);
            }
            else
            {
                next.Complete(true);
                Assert.True(await waiting.WaitAsync(s_timeout));
            }

            Assert.True(window.TakeNext());
        }
    }

    /// <summary>A <c>MoveNextAsync</c> result the test completes, backed by a value-task source as an async iterator's is.</summary>
    private sealed class NextRecord : IValueTaskSource<bool>
    {
        private ManualResetValueTaskSourceCore<bool> _core;

        public ValueTask<bool> AsValueTask() => new(this, _core.Version);

        public void Complete(bool more) => _core.SetResult(more);

        public void Fail(Exception exception) => _core.SetException(exception);

        public bool GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
