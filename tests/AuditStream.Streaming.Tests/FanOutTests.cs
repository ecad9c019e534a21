using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Ledger;
using AuditStream.Security;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Streaming.Tests;

/// <summary>The fan-out over a real ledger (SQLite in a temp directory) with recording clients.</summary>
public sealed class FanOutTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "auditstream-streaming-tests", Guid.NewGuid().ToString("N"));
    private AuditLedger _ledger = null!;

    public async Task InitializeAsync() =>
        _ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = _directory, CheckpointInterval = TimeSpan.FromHours(1) });

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_client_that_joins_ahead_of_the_fan_out_gets_only_the_seqs_after_its_position()
    {
        await AppendAsync(10);
        await using var fanOut = NewFanOut();
        var ahead = new RecordingClient();
        var level = new RecordingClient();

        // The fan-out has dispatched up to 10; one cursor already delivered up to 15, the other up to 10.
        Assert.True(fanOut.TryJoin(ahead, 15));
        Assert.True(fanOut.TryJoin(level, 10));
        Assert.False(fanOut.TryJoin(new RecordingClient(), 9));
        await AppendAsync(20);
        await WaitForAsync(() => fanOut.DispatchedSeq == 30);

        Assert.Equal(Enumerable.Range(16, 15).Select(i => (long)i), ahead.Seqs);
        Assert.Equal(Enumerable.Range(11, 20).Select(i => (long)i), level.Seqs);
    }

    [Fact]
    public async Task A_commit_batch_wakes_each_client_once_and_a_full_client_is_closed_without_holding_back_the_others()
    {
        await using var fanOut = NewFanOut();
        var healthy = new RecordingClient();
        var full = new RecordingClient { Full = true };
        var other = new RecordingClient(CompiledFilter.Compile(new StreamFilter { EventTypes = ["auth.failure"] }, TimeProvider.System));
        Assert.True(fanOut.TryJoin(healthy, 0));
        Assert.True(fanOut.TryJoin(full, 0));
        Assert.True(fanOut.TryJoin(other, 0));

        await AppendAsync(200);
        await WaitForAsync(() => fanOut.DispatchedSeq == 200 && healthy.Signals > 0);

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), healthy.Seqs);
        Assert.Equal(1, healthy.Signals);
        Assert.True(full.SlowConsumerCalls >= 1);

        // The index never offered the data.accessed events to a client that filters on auth.failure.
        Assert.Empty(other.Seqs);
        Assert.Equal(0, other.Offers);
    }

    private FanOut NewFanOut(TimeSpan? window = null, TimeProvider? time = null) =>
        new(_ledger.Feed, new PublishedFrameCache(), window ?? TimeSpan.Zero, window ?? TimeSpan.Zero, time ?? TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task Commits_within_the_batching_window_reach_a_client_in_one_wake_when_the_window_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var fanOut = NewFanOut(TimeSpan.FromMilliseconds(100), time);
        var client = new RecordingClient();
        Assert.True(fanOut.TryJoin(client, 0));

        // Quiet until now: the first commit goes out at once, nothing could have been batched with it.
        await AppendAsync(3);
        await WaitForAsync(() => client.Signals == 1);
        Assert.Equal(Enumerable.Range(1, 3).Select(i => (long)i), client.Seqs);

        // Deliveries are now frequent (a wake less than a window ago): the next commits wait for the window.
        await AppendAsync(4);
        await WaitForAsync(() => fanOut.DispatchedSeq == 7);
        await AppendAsync(2);
        await WaitForAsync(() => fanOut.DispatchedSeq == 9);
        Assert.Equal(1, client.Signals);

        time.Advance(TimeSpan.FromMilliseconds(100));
        await WaitForAsync(() => client.Signals > 1);
        Assert.Equal(2, client.Signals);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), client.Seqs);

        // A window after the last wake the system counts as quiet again.
        time.Advance(TimeSpan.FromMilliseconds(100));
        await AppendAsync(1);
        await WaitForAsync(() => client.Signals == 3);
        Assert.Equal(10, client.Seqs.Count);
    }

    private Task AppendAsync(int count) => LedgerTestSteps.AppendAsync(_ledger, count);

    private static Task WaitForAsync(Func<bool> condition) => LedgerTestSteps.WaitForAsync(condition);

    private sealed class RecordingClient(CompiledFilter? filter = null) : IFanOutClient
    {
        private readonly List<long> _seqs = [];

        public bool Full { get; init; }

        public int Signals { get; private set; }

        public int Offers { get; private set; }

        public int SlowConsumerCalls { get; private set; }

        public List<long> Seqs
        {
            get
            {
                lock (_seqs)
                {
                    return [.. _seqs];
                }
            }
        }

        public AccessScope Scope { get; } = AccessScope.ForTenant(Role.Auditor, "acme");

        public CompiledFilter Filter { get; } = filter ?? CompiledFilter.All;

        public SubscriptionIndex.Registration? Subscription { get; set; }

        public long IndexStamp { get; set; }

        public long LiveAfter { get; set; }

        public bool SignalPending { get; set; }

        public OfferResult Offer(RecordFrames record, bool live, bool signal)
        {
            Offers++;
            if (Full)
            {
                return OfferResult.Full;
            }

            if (!Filter.Matches(record.Record.Event))
            {
                return OfferResult.Filtered;
            }

            lock (_seqs)
            {
                _seqs.Add(record.Record.Seq);
            }

            return OfferResult.Queued;
        }

        public void Signal() => Signals++;

        public void SlowConsumer() => SlowConsumerCalls++;

        public void RequestClose(int status, string description)
        {
        }
    }
}
