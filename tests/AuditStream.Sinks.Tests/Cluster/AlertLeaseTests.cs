using AuditStream.Ledger;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Tests.Alerts;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Sinks.Tests.Cluster;

/// <summary>The alert evaluator of several instances on one PostgreSQL ledger runs on the one holding the <c>alerts</c> lease.</summary>
[Collection(OnPostgres.Name)]
public sealed class AlertLeaseTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_lease = TimeSpan.FromSeconds(2);

    private readonly TempDirectory _data = new();
    private readonly List<IAsyncDisposable> _owned = [];
    private AuditLedger _ledger = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await postgres.CreateLedgerAsync();
        _ledger = await ClusterStack.OpenLedgerAsync(_database, _data.Path);
    }

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _ledger.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task One_instance_evaluates_and_after_it_dies_another_continues_from_the_shared_position_and_windows()
    {
        var first = await StartAsync("instance-a");
        await first.WaitForLeaseAsync(holding: true, Timeout());
        var second = await StartAsync("instance-b");

        // Three failures now and two after the takeover: the window travels with the position.
        await AppendFailuresAsync(3, "user-9");
        await first.WaitForPositionAsync(3, Timeout());
        Assert.Null(second.Lease);
        await first.AbandonAsync();

        await AppendFailuresAsync(2, "user-9");
        await second.WaitForPositionAsync(6, Timeout());
        await AppendFailuresAsync(5, "user-8");
        await second.WaitForPositionAsync(12, Timeout());

        // One alert per actor, each raised once: by the second instance, which resumed rather than replayed.
        Assert.Equal(12, _ledger.Head.Size);
        Assert.Equal((0L, 2L), (first.Fired, second.Fired));
        var types = new List<string>();
        await foreach (var record in _ledger.Store.ReadRangeAsync(1, 12, default))
        {
            types.Add(record.Event.Type!);
        }

        Assert.Equal(2, types.Count(t => t == AlertInfo.RaisedType));
        Assert.Equal(AlertInfo.RaisedType, types[5]);
        var ownership = await first.GetOwnershipAsync(Timeout());
        Assert.Equal(("instance-b", 12L), (ownership.Owner, ownership.Position));
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(s_timeout).Token;

    private async Task AppendFailuresAsync(int count, string actor)
    {
        var result = await _ledger.AppendAsync([.. Enumerable.Range(0, count).Select(_ => LedgerFixture.Event(3) with { ActorId = actor })], "acme");
        Assert.False(result.IsInvalid, string.Join("; ", result.Errors));
    }

    private async Task<AlertEvaluator> StartAsync(string id)
    {
        var state = await PostgresSinkStateStore.OpenAsync(_database);
        _owned.Add(state);
        var evaluator = new AlertEvaluator(AlertEvaluatorTests.AuthFailureRule(), _ledger, state, TimeProvider.System, NullLogger.Instance, new LeaseHolder(id, s_lease));
        _owned.Add(evaluator);
        evaluator.Start();
        return evaluator;
    }
}
