using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Server.Tests.Operations;

/// <summary>The ledger's instruments on a real ledger, read through a listener on a meter of its own.</summary>
public sealed class LedgerMetricsTests
{
    [Fact]
    public async Task Commits_failures_tree_size_and_checkpoint_age_are_observed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "auditstream-ledger-metrics", Guid.NewGuid().ToString("N"));
        using var factory = new HubMetricsTests.OwnMeterFactory();
        using var metrics = new LedgerMetrics(factory);
        using var listener = HubMetricsTests.Listen(factory, out var seen);
        GatedStore? store = null;
        try
        {
            await using (var ledger = await AuditLedger.OpenAsync(
                new LedgerOptions { DataDirectory = dir, CheckpointInterval = TimeSpan.FromHours(1) },
                decorateStore: s => store = new GatedStore(s),
                metrics: metrics))
            {
                var events = Enumerable.Range(0, 3).Select(i => new AuditEvent { Type = "data.read", Severity = "info", Category = "data", ActorId = $"u{i}", Action = "read", Outcome = "success" }).ToList();
                Assert.False((await ledger.AppendAsync(events)).IsInvalid);
                store!.FailNextCommits = 1;
                await Assert.ThrowsAsync<LedgerUnavailableException>(() => ledger.AppendAsync(events[..1]));
                await ledger.Checkpoints.PublishNowAsync(CancellationToken.None);

                listener.RecordObservableInstruments();
                Assert.Equal(3, seen[("audit_ledger_events_appended_total", "")]);
                Assert.Equal(1, seen[("audit_ledger_commits_total", "")]);
                Assert.Equal(1, seen[("audit_ledger_commit_errors_total", "")]);
                Assert.Equal(3, seen[("audit_ledger_tree_size", "")]);
                Assert.Equal(3, seen[("audit_ledger_checkpoint_tree_size", "")]);
                Assert.InRange(seen[("audit_ledger_checkpoint_age_seconds", "")], 0, 60);
                Assert.Equal(3, seen[("audit_ledger_batch_events", "")]);
                Assert.True(seen[("audit_ledger_commit_duration_seconds", "")] > 0);
                Assert.True(ledger.Writer.Status.LastCommitFailed);
            }

            // A closed ledger is no longer observed.
            seen.Clear();
            listener.RecordObservableInstruments();
            Assert.False(seen.ContainsKey(("audit_ledger_tree_size", "")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
