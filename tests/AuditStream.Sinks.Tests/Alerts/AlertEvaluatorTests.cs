using AuditStream.Events;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Sinks.Tests.Alerts;

public sealed class AlertEvaluatorTests : IAsyncLifetime
{
    private LedgerFixture _fixture = null!;

    public async Task InitializeAsync() => _fixture = await LedgerFixture.OpenAsync();

    public async Task DisposeAsync() => await _fixture.DisposeAsync();

    [Fact]
    public async Task A_fired_alert_is_appended_to_the_ledger_once_even_across_a_restart_and_a_full_replay()
    {
        await using (var evaluator = Start())
        {
            await _fixture.AppendAsync(5, _ => LedgerFixture.Event(3) with { ActorId = "user-9" });
            await WaitAsync(evaluator, 6);
            Assert.Equal(1, evaluator.Fired);
        }

        var alert = await ReadAsync(6);
        Assert.Equal("alert.raised", alert.Type);
        Assert.Equal("security", alert.Category);
        Assert.Equal([1L, 2, 3, 4, 5], AlertInfo.Read(alert)!.RelatedSeqs);

        // Restart: resumes after seq 6; nothing fires again.
        await _fixture.ReopenAsync();
        await using (var evaluator = Start())
        {
            await _fixture.AppendAsync(1, _ => LedgerFixture.Event(0) with { Type = "data.accessed", Category = "data" });
            await WaitAsync(evaluator, 7);
            Assert.Equal(0, evaluator.Fired);
        }

        // A lost position (replay from seq 1): the alert is re-fired with the same id and the ledger keeps the original.
        await _fixture.State.SaveCursorAsync(AlertEvaluator.CursorName, 0, null, default);
        await using (var evaluator = Start())
        {
            await WaitAsync(evaluator, 7);
        }

        Assert.Equal(7, _fixture.Ledger.Head.Size);
    }

    [Fact]
    public async Task Windows_survive_a_restart()
    {
        await using (var evaluator = Start())
        {
            await _fixture.AppendAsync(3, _ => LedgerFixture.Event(3) with { ActorId = "user-9" });
            await WaitAsync(evaluator, 3);
        }

        await _fixture.ReopenAsync();
        await using (var evaluator = Start())
        {
            await _fixture.AppendAsync(2, _ => LedgerFixture.Event(3) with { ActorId = "user-9" });
            await WaitAsync(evaluator, 6);
            Assert.Equal(1, evaluator.Fired);
        }

        Assert.Equal([1L, 2, 3, 4, 5], AlertInfo.Read(await ReadAsync(6))!.RelatedSeqs);
    }

    private AlertEvaluator Start()
    {
        var evaluator = new AlertEvaluator(AuthFailureRule(), _fixture.Ledger, _fixture.State, TimeProvider.System, NullLogger.Instance);
        evaluator.Start();
        return evaluator;
    }

    /// <summary>One rule: an alert when one actor has 5 <c>auth.failure</c> events in the window, evaluated from seq 1.</summary>
    internal static AlertOptions AuthFailureRule() => new()
    {
        StartAt = SinkStart.Beginning,
        Rules =
        [
            new AlertRuleOptions
            {
                Name = "auth-failures", Kind = "security", Severity = "error", Threshold = 5, GroupBy = "actor_id",
                Filter = new SinkFilter { EventTypes = ["auth.failure"] },
            },
        ],
    };

    private async Task<AuditEvent> ReadAsync(long seq)
    {
        await foreach (var record in _fixture.Ledger.Store.ReadRangeAsync(seq, seq, default))
        {
            return record.Event;
        }

        throw new InvalidOperationException($"seq {seq} is missing");
    }

    private static async Task WaitAsync(AlertEvaluator evaluator, long seq) =>
        await evaluator.WaitForPositionAsync(seq, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
}
