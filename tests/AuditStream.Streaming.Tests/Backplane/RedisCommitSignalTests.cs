using System.Collections.Concurrent;
using System.Diagnostics;
using AuditStream.Streaming.Backplane;
using AuditStream.Streaming.Tests.Support;

namespace AuditStream.Streaming.Tests.Backplane;

/// <summary>The Redis commit signal against a real redis-server on loopback, which the tests kill and restart.</summary>
public sealed class RedisCommitSignalTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);
    private readonly List<RedisCommitSignal> _signals = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var signal in _signals)
        {
            await signal.DisposeAsync();
        }

        // A test that killed the server leaves it running for the next one.
        if (redis.IsOwned)
        {
            try
            {
                await redis.RestartAsync();
            }
            catch (InvalidOperationException)
            {
                // Already running.
            }
        }
    }

    private RedisCommitSignal Signal(string ledgerId, BackplaneMetrics? metrics = null, string? configuration = null, TimeSpan? timeout = null)
    {
        var signal = new RedisCommitSignal(
            new BackplaneOptions { Redis = configuration ?? redis.ConfigurationString, PublishTimeout = timeout ?? TimeSpan.FromSeconds(5) },
            ledgerId,
            metrics);
        _signals.Add(signal);
        return signal;
    }

    private static bool CompletedAtOnce(ValueTask publish) => publish.IsCompletedSuccessfully;

    private static string NewLedgerId() => Guid.NewGuid().ToString("N");

    /// <summary>Records every announcement a subscriber gets and lets a test await one.</summary>
    private sealed class Received
    {
        private readonly ConcurrentQueue<(long From, long To)> _all = new();
        private readonly ConcurrentDictionary<(long, long), TaskCompletionSource> _awaited = new();

        public Received(RedisCommitSignal signal) => Subscription = signal.Subscribe((from, to) =>
        {
            _all.Enqueue((from, to));
            Awaited((from, to)).TrySetResult();
        });

        public IDisposable Subscription { get; }

        public IReadOnlyList<(long From, long To)> All => [.. _all];

        public TaskCompletionSource Awaited((long, long) range) => _awaited.GetOrAdd(range, static _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

        public async Task<bool> ArrivesWithinAsync((long, long) range, TimeSpan timeout)
        {
            try
            {
                await Awaited(range).Task.WaitAsync(timeout);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    /// <summary>A task that completes at the next count of <paramref name="direction"/>/<paramref name="result"/>.</summary>
    private static Task NextCount(BackplaneMetrics metrics, string direction, string result)
    {
        var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        metrics.OnCounted += (d, r) =>
        {
            if (d == direction && r == result)
            {
                counted.TrySetResult();
            }
        };
        return counted.Task;
    }

    /// <summary>Publishes fresh ranges from <paramref name="publisher"/> until <paramref name="subscriber"/> gets one (Redis may still be coming back).</summary>
    private static async Task<(long, long)> PublishUntilReceivedAsync(RedisCommitSignal publisher, Received subscriber, long firstSeq)
    {
        var deadline = Stopwatch.StartNew();
        for (var seq = firstSeq; deadline.Elapsed < s_wait; seq++)
        {
            await publisher.PublishAsync(seq, seq, CancellationToken.None);
            if (await subscriber.ArrivesWithinAsync((seq, seq), TimeSpan.FromMilliseconds(500)))
            {
                return (seq, seq);
            }
        }

        throw new TimeoutException($"No announcement reached the subscriber within {s_wait.TotalSeconds} s.");
    }

    /// <summary>Announces <paramref name="after"/>+1 and +2: the first arrives once by the time the second arrives (a handler registered twice would repeat it).</summary>
    private static async Task AssertLaterAnnouncementsArriveOnceAsync(RedisCommitSignal writer, Received received, long after)
    {
        await writer.PublishAsync(after + 1, after + 1, CancellationToken.None);
        Assert.True(await received.ArrivesWithinAsync((after + 1, after + 1), s_wait));
        await writer.PublishAsync(after + 2, after + 2, CancellationToken.None);
        Assert.True(await received.ArrivesWithinAsync((after + 2, after + 2), s_wait));
        Assert.Single(received.All, r => r == (after + 1, after + 1));
    }

    [Fact]
    public async Task A_commit_announced_by_one_instance_reaches_every_instance_of_the_ledger_and_no_other_ledger()
    {
        var ledger = NewLedgerId();
        var writerMetrics = new BackplaneMetrics();
        var writer = Signal(ledger, writerMetrics);
        var follower = Signal(ledger);
        var otherLedger = Signal(NewLedgerId());
        await Task.WhenAll(writer.Started, follower.Started, otherLedger.Started);
        Assert.True(writer.IsConnected && follower.IsConnected && otherLedger.IsConnected);
        var atFollower = new Received(follower);
        var atWriter = new Received(writer);
        var atOther = new Received(otherLedger);

        var acknowledged = NextCount(writerMetrics, BackplaneMetrics.Publish, BackplaneMetrics.Results.Ok);
        await writer.PublishAsync(1, 5, CancellationToken.None);
        Assert.True(await atFollower.ArrivesWithinAsync((1, 5), s_wait));
        Assert.True(await atWriter.ArrivesWithinAsync((1, 5), s_wait));
        await acknowledged.WaitAsync(s_wait);
        Assert.Equal(1, writerMetrics.Messages(BackplaneMetrics.Publish, BackplaneMetrics.Results.Ok));

        // Redis handed 1-5 out before it took 7-7 (acknowledged above), so had it reached the other ledger it would be first.
        await otherLedger.PublishAsync(7, 7, CancellationToken.None);
        Assert.True(await atOther.ArrivesWithinAsync((7, 7), s_wait));
        Assert.Equal([(7L, 7L)], atOther.All);
        Assert.Equal([(1L, 5L)], atFollower.All);

        // A disposed subscription hears nothing more; the others still do.
        atFollower.Subscription.Dispose();
        var second = new Received(follower);
        await writer.PublishAsync(6, 6, CancellationToken.None);
        Assert.True(await second.ArrivesWithinAsync((6, 6), s_wait));
        Assert.Equal([(1L, 5L)], atFollower.All);
    }

    [Fact]
    public async Task A_commit_announced_while_redis_is_unreachable_neither_throws_nor_waits_and_is_counted_as_failed()
    {
        var metrics = new BackplaneMetrics();
        using var nothing = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        nothing.Start();
        var port = ((System.Net.IPEndPoint)nothing.LocalEndpoint).Port;
        nothing.Stop();
        var signal = Signal(NewLedgerId(), metrics, $"127.0.0.1:{port}", TimeSpan.FromMilliseconds(200));

        // Before the first connection attempt ended and after it: the writer's call completes synchronously each time.
        Assert.True(CompletedAtOnce(signal.PublishAsync(1, 1, CancellationToken.None)));
        await signal.Started.WaitAsync(s_wait);
        Assert.False(signal.IsConnected);
        for (var seq = 2; seq <= 100; seq++)
        {
            Assert.True(CompletedAtOnce(signal.PublishAsync(seq, seq, CancellationToken.None)));
        }

        Assert.Equal(100, metrics.Messages(BackplaneMetrics.Publish, BackplaneMetrics.Results.Failed));
        Assert.Equal(0, metrics.Messages(BackplaneMetrics.Publish, BackplaneMetrics.Results.Ok));
    }

    [Fact]
    public async Task After_redis_is_killed_and_restarted_announcements_flow_again_once_each_without_restarting_the_instances()
    {
        var ledger = NewLedgerId();
        var writerMetrics = new BackplaneMetrics();
        var writer = Signal(ledger, writerMetrics, timeout: TimeSpan.FromMilliseconds(500));
        var follower = Signal(ledger, timeout: TimeSpan.FromMilliseconds(500));
        await Task.WhenAll(writer.Started, follower.Started);
        var received = new Received(follower);
        await PublishUntilReceivedAsync(writer, received, 1);

        await redis.KillAsync();
        var failed = NextCount(writerMetrics, BackplaneMetrics.Publish, BackplaneMetrics.Results.Failed);
        var watch = Stopwatch.StartNew();
        await writer.PublishAsync(1000, 1000, CancellationToken.None);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(500), $"PublishAsync took {watch.Elapsed.TotalMilliseconds} ms with Redis down");
        await failed.WaitAsync(s_wait);

        await redis.RestartAsync();
        var (from, to) = await PublishUntilReceivedAsync(writer, received, 2000);

        // Resubscribed once, not once per reconnect.
        await AssertLaterAnnouncementsArriveOnceAsync(writer, received, to);
        Assert.Single(received.All, r => r == (from, to));
    }

    [Fact]
    public async Task An_instance_started_while_redis_is_down_subscribes_when_redis_comes_up()
    {
        await redis.KillAsync();
        var ledger = NewLedgerId();
        var writer = Signal(ledger, timeout: TimeSpan.FromMilliseconds(500));
        var follower = Signal(ledger, timeout: TimeSpan.FromMilliseconds(500));
        await Task.WhenAll(writer.Started, follower.Started).WaitAsync(s_wait);
        Assert.False(follower.IsConnected);
        var received = new Received(follower);

        await redis.RestartAsync();
        var (_, to) = await PublishUntilReceivedAsync(writer, received, 1);
        await AssertLaterAnnouncementsArriveOnceAsync(writer, received, to);
    }

    [Theory]
    [InlineData("1-5", true, 1, 5)]
    [InlineData("7-7", true, 7, 7)]
    [InlineData("3-9 batch=abc", true, 3, 9)]
    [InlineData("5-1", false, 0, 0)]
    [InlineData("0-1", false, 0, 0)]
    [InlineData("-1", false, 0, 0)]
    [InlineData("1-", false, 0, 0)]
    [InlineData("a-b", false, 0, 0)]
    [InlineData("", false, 0, 0)]
    public void A_message_is_the_committed_range_from_dash_to(string message, bool valid, long from, long to)
    {
        Assert.Equal(valid, RedisCommitSignal.TryParse(System.Text.Encoding.UTF8.GetBytes(message), out var parsedFrom, out var parsedTo, out var records));
        if (valid)
        {
            Assert.Equal((from, to), (parsedFrom, parsedTo));
            Assert.Equal(message.Split(' ')[0], RedisCommitSignal.Message(from, to));
            Assert.Equal(message.Contains(' ', StringComparison.Ordinal) ? message[(message.IndexOf(' ', StringComparison.Ordinal) + 1)..] : "", System.Text.Encoding.UTF8.GetString(records.Span));
        }
    }

    [Fact]
    public async Task An_announcement_carries_the_records_bytes_unchanged_to_every_instance()
    {
        var ledger = NewLedgerId();
        var writer = Signal(ledger);
        var follower = Signal(ledger);
        var arrived = new TaskCompletionSource<(long, long, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = follower.Subscribe((from, to, records) =>
        {
            if (!records.IsEmpty)
            {
                arrived.TrySetResult((from, to, records.ToArray()));
            }
        });
        await Task.WhenAll(writer.Started, follower.Started);

        // Every byte value, spaces and dashes included, and larger than one socket read.
        var records = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31)).ToArray();
        var deadline = Stopwatch.StartNew();
        while (!arrived.Task.IsCompleted && deadline.Elapsed < s_wait)
        {
            // The subscription may still be on its way to Redis: announce again until one arrives.
            await writer.PublishAsync(12, 19, records, CancellationToken.None);
            await Task.WhenAny(arrived.Task, Task.Delay(TimeSpan.FromMilliseconds(200)));
        }

        var (from, to, bytes) = await arrived.Task.WaitAsync(s_wait);
        Assert.Equal((12L, 19L), (from, to));
        Assert.Equal(records, bytes);
    }
}
