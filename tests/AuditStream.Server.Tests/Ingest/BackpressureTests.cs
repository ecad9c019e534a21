using System.Net;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Hosting;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Ingest;

public sealed class BackpressureTests
{
    [Fact]
    public async Task A_full_ledger_queue_is_429_with_retry_after_and_a_failing_disk_is_503()
    {
        HoldingStore? holding = null;
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["AuditStream:Ledger:MaxQueuedEvents"] = "3" },
            services => services.AddSingleton(new LedgerStoreDecorator(s => holding = new HoldingStore(s))));
        using var client = server.Producer();

        holding!.Hold();
        var first = client.PostAsync("api/v1/events", Json.Content("[" + Json.Event(1) + "," + Json.Event(2) + "]"));
        await holding.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var refused = await client.PostAsync("api/v1/events", Json.Content("[" + Json.Event(3) + "," + Json.Event(4) + "]"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        holding.Release();
        using (var ok = await first)
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        holding.FailNext = true;
        using var failed = await client.PostAsync("api/v1/events", Json.Content(Json.Event(5)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);
        Assert.Equal(2, server.Ledger.Head.Size);

        using var after = await client.PostAsync("api/v1/events", Json.Content(Json.Event(6)));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(3, (await Json.ReadAsync(after))["seq"]!.GetValue<long>());
    }

    private sealed class HoldingStore(ILedgerStore inner) : ILedgerStore
    {
        private TaskCompletionSource _gate = Completed();

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool FailNext { get; set; }

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        public async Task CommitAsync(CommitBatch batch, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await _gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            if (FailNext)
            {
                FailNext = false;
                throw new IOException("simulated: disk full");
            }

            await inner.CommitAsync(batch, cancellationToken);
        }

        public Task<StoreHead> InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<IReadOnlyDictionary<Guid, AppendReceipt>> FindByIdsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) => inner.FindByIdsAsync(ids, cancellationToken);

        public Task<Events.LedgerRecord?> GetAsync(long seq, CancellationToken cancellationToken) => inner.GetAsync(seq, cancellationToken);

        public IAsyncEnumerable<Events.LedgerRecord> ReadRangeAsync(long fromSeq, long toSeq, CancellationToken cancellationToken) => inner.ReadRangeAsync(fromSeq, toSeq, cancellationToken);

        public Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken) => inner.QueryAsync(query, cancellationToken);

        public Task<long?> FindSeqAtOrAfterAsync(long timestampMicros, CancellationToken cancellationToken) => inner.FindSeqAtOrAfterAsync(timestampMicros, cancellationToken);

        public Task<byte[][]> ReadEventHashesAsync(long fromSeq, long toSeqExclusive, CancellationToken cancellationToken) => inner.ReadEventHashesAsync(fromSeq, toSeqExclusive, cancellationToken);

        public Task<byte[][]> ReadSubtreeHashesAsync(int level, long fromIndex, long toIndexExclusive, CancellationToken cancellationToken) => inner.ReadSubtreeHashesAsync(level, fromIndex, toIndexExclusive, cancellationToken);

        public Task SaveCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken) => inner.SaveCheckpointAsync(checkpoint, cancellationToken);

        public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken) => inner.GetLatestCheckpointAsync(cancellationToken);

        public IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(CancellationToken cancellationToken) => inner.ReadCheckpointsAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static TaskCompletionSource Completed()
        {
            var tcs = new TaskCompletionSource();
            tcs.SetResult();
            return tcs;
        }
    }
}
