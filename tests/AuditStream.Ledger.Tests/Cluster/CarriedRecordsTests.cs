using AuditStream.Events;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Feed;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Cluster;

/// <summary>
/// A leader's commit announcement carries the committed records, so followers extend their feed without reading the
/// store; what does not check out (altered, forged, out of order) is never applied: the follower reads the store instead.
/// </summary>
[Collection(OnPostgres.Name)]
public sealed class CarriedRecordsTests(PostgresServer server)
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    [Fact]
    public void Records_round_trip_with_their_seqs_times_hashes_and_bodies()
    {
        var records = Chain(5, firstSeq: 41);
        var decoded = CarriedRecords.Decode(CarriedRecords.Encode(records, Key, 1 << 20), Key);

        Assert.NotNull(decoded);
        Assert.Equal(records.Select(r => (r.Seq, r.TimestampMicros, Convert.ToHexString(r.PrevHash), Convert.ToHexString(r.Hash), Convert.ToHexString(r.Body))),
            decoded.Select(r => (r.Seq, r.TimestampMicros, Convert.ToHexString(r.PrevHash), Convert.ToHexString(r.Hash), Convert.ToHexString(r.Body))));
    }

    [Fact]
    public void Any_altered_byte_a_wrong_key_or_a_cut_message_is_refused()
    {
        var message = CarriedRecords.Encode(Chain(3), Key, 1 << 20)!;
        for (var at = 0; at < message.Length; at++)
        {
            var altered = (byte[])message.Clone();
            altered[at] ^= 0x01;
            Assert.Null(CarriedRecords.Decode(altered, Key));
        }

        var otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;
        Assert.Null(CarriedRecords.Decode(message, otherKey));
        Assert.Null(CarriedRecords.Decode(message.AsSpan(0, message.Length - 1), Key));
        Assert.Null(CarriedRecords.Decode([.. message, 0], Key));
        Assert.Null(CarriedRecords.Decode([], Key));
    }

    [Fact]
    public void A_hash_that_is_not_the_bodys_is_refused_even_under_the_right_key()
    {
        // A leader's bug or a forged record with a valid MAC: the follower recomputes every hash.
        var records = Chain(2);
        var forged = new LedgerRecord(records[1].Seq, records[1].TimestampMicros, records[1].PrevHash, records[1].Hash, "{\"forged\":true}"u8.ToArray());
        Assert.Null(CarriedRecords.Decode(CarriedRecords.Encode([records[0], forged], Key, 1 << 20), Key));
    }

    [Fact]
    public void Records_larger_than_the_limit_are_not_carried()
    {
        var records = Chain(10);
        var size = CarriedRecords.Encode(records, Key, int.MaxValue)!.Length;
        Assert.Null(CarriedRecords.Encode(records, Key, size - 1));
        Assert.NotNull(CarriedRecords.Encode(records, Key, size));
    }

    [Fact]
    public async Task A_follower_applies_what_announcements_carry_without_reading_the_store()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var signal = new LoopbackCommitSignal();
        var leader = await cluster.OpenAsync("a", signal: signal);
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMinutes(10) }, signal);
        var received = Received(follower);
        var readsAtStart = follower.Cluster!.StoreReads;

        for (var round = 0; round < 3; round++)
        {
            await leader.AppendAsync([.. Enumerable.Range(round * 4, 4).Select(i => TestEvents.Make(i))]);
            using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
            await follower.Feed.WaitForAsync((round + 1) * 4, timeout.Token);
        }

        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), received.Seqs());
        Assert.Equal(leader.Head.RootHash, follower.Head.RootHash);
        Assert.Equal(12, follower.Cluster.CarriedRecordsApplied);
        Assert.Equal(readsAtStart, follower.Cluster.StoreReads);
        await AssertSameBodiesAsync(leader, follower, 12);
    }

    [Fact]
    public async Task Records_altered_in_transit_are_refused_and_the_follower_reads_the_store()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var signal = new LoopbackCommitSignal
        {
            // Flip the last byte: inside the last body, which the MAC does not cover but the hash chain does.
            Alter = records => { var altered = records.ToArray(); altered[^1] ^= 0x20; return altered; },
        };
        var leader = await cluster.OpenAsync("a", signal: signal);
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMinutes(10) }, signal);
        var received = Received(follower);

        await leader.AppendAsync([.. Enumerable.Range(0, 6).Select(i => TestEvents.Make(i))]);
        using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
        await follower.Feed.WaitForAsync(6, timeout.Token);

        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), received.Seqs());
        Assert.Equal(0, follower.Cluster!.CarriedRecordsApplied);
        Assert.Equal(leader.Head.RootHash, follower.Head.RootHash);
        await AssertSameBodiesAsync(leader, follower, 6);
    }

    [Fact]
    public async Task A_lost_announcement_leaves_a_gap_the_follower_fills_from_the_store_in_order_and_once()
    {
        await using var cluster = await ClusterLedgers.CreateAsync(server);
        var signal = new LoopbackCommitSignal { Drop = 1 };
        var leader = await cluster.OpenAsync("a", signal: signal);
        var follower = await cluster.OpenAsync("b", new ClusterOptions { FollowerPollInterval = TimeSpan.FromMinutes(10) }, signal);
        var received = Received(follower);

        await leader.AppendAsync([.. Enumerable.Range(0, 3).Select(i => TestEvents.Make(i))]);
        await leader.AppendAsync([.. Enumerable.Range(3, 3).Select(i => TestEvents.Make(i))]);
        await leader.AppendAsync([.. Enumerable.Range(6, 3).Select(i => TestEvents.Make(i))]);
        using var timeout = new CancellationTokenSource(ClusterLedgers.Timeout);
        await follower.Feed.WaitForAsync(9, timeout.Token);

        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), received.Seqs());
        Assert.Equal(leader.Head.RootHash, follower.Head.RootHash);
    }

    private static List<LedgerRecord> Chain(int count, long firstSeq = 1)
    {
        var records = new List<LedgerRecord>();
        var prev = new byte[32];
        prev[0] = (byte)firstSeq;
        for (var i = 0; i < count; i++)
        {
            var body = System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{i},\"pad\":\"{new string('x', i * 7)}\"}}");
            var hash = new byte[32];
            AuditStream.Canonical.ChainStep.ComputeHash(prev, body, hash);
            records.Add(new LedgerRecord(firstSeq + i, 1_700_000_000_000_000 + i, prev, hash, body));
            prev = hash;
        }

        return records;
    }

    private static async Task AssertSameBodiesAsync(AuditLedger leader, AuditLedger follower, long to)
    {
        for (var seq = 1L; seq <= to; seq++)
        {
            Assert.True(follower.Feed.TryGet(seq, out var record));
            var stored = await leader.Store.GetAsync(seq, CancellationToken.None);
            Assert.Equal(Convert.ToHexString(stored!.Body), Convert.ToHexString(record.Body));
        }
    }

    private static SeqLog Received(AuditLedger ledger)
    {
        var log = new SeqLog();
        ledger.Feed.Committed += log.Add;
        return log;
    }

    /// <summary>Seqs the feed published, appended from the writer's or the follower's thread.</summary>
    private sealed class SeqLog
    {
        private readonly Lock _lock = new();
        private readonly List<long> _seqs = [];

        public void Add(IReadOnlyList<LedgerRecord> records)
        {
            lock (_lock)
            {
                _seqs.AddRange(records.Select(r => r.Seq));
            }
        }

        public List<long> Seqs()
        {
            lock (_lock)
            {
                return [.. _seqs];
            }
        }
    }
}

/// <summary>
/// A backplane in this process: every announcement reaches every subscriber (the publisher's own included, as with
/// Redis), with its records, optionally altered, and the first <see cref="Drop"/> announcements lost.
/// </summary>
internal sealed class LoopbackCommitSignal : ICommitSignal
{
    private readonly Lock _lock = new();
    private readonly List<CommitAnnounced> _subscribers = [];

    public Func<ReadOnlyMemory<byte>, byte[]>? Alter { get; init; }

    public int Drop { get; set; }

    public ValueTask PublishAsync(long fromSeq, long toSeq, CancellationToken cancellationToken) =>
        PublishAsync(fromSeq, toSeq, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public ValueTask PublishAsync(long fromSeq, long toSeq, ReadOnlyMemory<byte> records, CancellationToken cancellationToken)
    {
        CommitAnnounced[] subscribers;
        lock (_lock)
        {
            if (Drop > 0)
            {
                Drop--;
                return ValueTask.CompletedTask;
            }

            subscribers = [.. _subscribers];
        }

        var carried = records.IsEmpty || Alter is null ? records : Alter(records);
        foreach (var subscriber in subscribers)
        {
            subscriber(fromSeq, toSeq, carried);
        }

        return ValueTask.CompletedTask;
    }

    public IDisposable Subscribe(Action<long, long> committed) => Subscribe((from, to, _) => committed(from, to));

    public IDisposable Subscribe(CommitAnnounced committed)
    {
        lock (_lock)
        {
            _subscribers.Add(committed);
        }

        return new Subscription(this, committed);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Subscription(LoopbackCommitSignal signal, CommitAnnounced committed) : IDisposable
    {
        public void Dispose()
        {
            lock (signal._lock)
            {
                signal._subscribers.Remove(committed);
            }
        }
    }
}
